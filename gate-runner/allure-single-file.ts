import { readFile, writeFile } from 'node:fs/promises';

/**
 * Allure 3's single-file report puts its app script (a data: URL) before the inline scripts that
 * hold the report's data. On a busy machine the app starts reading its data before the parser has
 * reached them, falls back to fetching widgets/*.json next to the file, which a browser refuses
 * over file://, and stays on its spinner for good. Deferring the app script runs it after the
 * whole document, data included, has been parsed; nothing else in the page changes.
 */
const appScript = '<script   src="data:text/javascript;base64,';
const deferredAppScript = '<script defer src="data:text/javascript;base64,';

export class ReportLayoutError extends Error {}

/** The report's HTML with its app script deferred; refuses a layout it does not know rather than guess. */
export function deferReportApp(html: string): string {
  const found = html.split(appScript).length - 1;
  if (found !== 1) {
    throw new ReportLayoutError(`the Allure single-file report has ${found} app script tag(s) of the expected form "${appScript}…", not 1: the installed Allure changed its layout; check allure-single-file.ts against it`);
  }
  return html.replace(appScript, deferredAppScript);
}

/** Rewrites the report file in place (allure-generate.ts, once the report is written). */
export async function deferReportAppInFile(indexHtml: string): Promise<void> {
  await writeFile(indexHtml, deferReportApp(await readFile(indexHtml, 'utf8')));
}
