import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { deferReportApp, deferReportAppInFile, ReportLayoutError } from './allure-single-file.ts';
import { tempDir } from './sample-run.ts';

// The layout of Allure 3's single-file report, cut down: the app script, then the inline data scripts.
const appTag = '<script   src="data:text/javascript;base64,QVBQ"></script>';
const dataTags = '<script>window.allureReportData = {"widgets/summary.json": "e30="};</script><script>window.reportDataReady = true;</script>';
const report = (app: string): string => `<!DOCTYPE html><html><head>${app}${dataTags}</head><body><div id="app"></div></body></html>`;

describe('deferring the app script of the Allure single-file report', () => {
  it('defers the one app script and changes nothing else in the page', async () => {
    expect(deferReportApp(report(appTag))).toBe(report('<script defer src="data:text/javascript;base64,QVBQ"></script>'));
    const file = path.join(await tempDir('single-file'), 'index.html');
    await writeFile(file, report(appTag));
    await deferReportAppInFile(file);
    expect(await readFile(file, 'utf8')).toBe(report('<script defer src="data:text/javascript;base64,QVBQ"></script>'));
  });

  it('refuses a report with two app scripts of that form rather than guess which one to defer', () => {
    expect(() => deferReportApp(report(`${appTag}${appTag}`))).toThrow(ReportLayoutError);
    expect(() => deferReportApp(report(`${appTag}${appTag}`))).toThrow(/2 app script tag\(s\) of the expected form .*, not 1/);
  });

  it('refuses a report with no app script of that form (Allure changed its layout), saying what to check', () => {
    expect(() => deferReportApp(report('<script src="app.js"></script>'))).toThrow(ReportLayoutError);
    expect(() => deferReportApp(report(''))).toThrow(/0 app script tag\(s\) of the expected form .*, not 1: the installed Allure changed its layout; check allure-single-file\.ts against it/);
  });

  it('leaves the whitespace around the page as it was', () => {
    expect(deferReportApp(`\n${report(appTag)}\n`)).toBe(`\n${report('<script defer src="data:text/javascript;base64,QVBQ"></script>')}\n`);
  });
});
