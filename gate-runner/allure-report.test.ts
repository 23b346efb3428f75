import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from '@playwright/test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { phaseById } from '../suites/phases.ts';
import { allureReportFile, generateAllureReport } from './allure-cli.ts';
import { deferReportApp, ReportLayoutError } from './allure-single-file.ts';
import { tempDir, writeAllureResult } from './sample-run.ts';

const phase1 = phaseById('phase1');
const failing = phase1.checklist[0]?.text as string;

// The report `npm run gate` prints, opened as a person opens it: a file in Chromium, no server.
describe('the Allure report of a gate run, opened from its file', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--no-sandbox', '--disable-background-networking', '--disable-gpu'] });
  });
  afterAll(async () => {
    await browser.close();
  });

  it('shows the results and, under Quality Gates, the rules that decided the verdict', async () => {
    const run = await tempDir('report');
    const results = path.join(run, 'allure-results');
    for (const line of phase1.checklist) await writeAllureResult(results, phase1, line.text, line.text === failing ? 'failed' : 'passed', line.text === failing ? `${line.text} did not hold` : undefined);
    const reportDir = path.join(run, 'allure-report');
    const generated = await generateAllureReport(results, reportDir, 'phase1', run);
    expect(generated.exitCode, generated.output).toBe(0);

    const page = await browser.newPage();
    // A busy machine, as CI's is while other tests run: the report must render all the same
    // (allure-single-file.ts; without it the page stays on its spinner at this rate).
    await (await page.context().newCDPSession(page)).send('Emulation.setCPUThrottlingRate', { rate: 6 });
    // What the page said while it loaded: a report that never renders is explained by these.
    const said: string[] = [];
    page.on('console', (message) => said.push(`console ${message.type()}: ${message.text().slice(0, 300)}`));
    page.on('pageerror', (error) => said.push(`page error: ${error.message.slice(0, 300)}`));
    page.on('requestfailed', (request) => said.push(`request failed: ${request.url().slice(0, 120)} (${request.failure()?.errorText ?? '?'})`));
    // The report's analytics script is the only thing it fetches from the network: refuse it here.
    await page.route((url) => url.protocol !== 'file:' && url.protocol !== 'data:', (route) => route.abort());
    await page.goto(pathToFileURL(allureReportFile(reportDir)).href);
    const rendered = () => page.getByText(phase1.title).count();
    await expect
      .poll(rendered, { timeout: 45_000, message: 'the report never showed the phase' })
      .toBeGreaterThan(0)
      .catch(async (error: unknown) => {
        const shown = await page.locator('body').innerText().catch(() => '(no body)');
        throw new Error(`${String(error)}\nthe page showed: ${shown.slice(0, 600)}\nthe page said:\n${said.join('\n') || '(nothing)'}`);
      });
    for (const line of phase1.checklist.slice(1, 4)) expect(await page.getByText(line.text, { exact: true }).count()).toBeGreaterThan(0);

    await page.getByText(/^Quality Gates/).first().click();
    await expect.poll(() => page.getByText('phase1/everyLinePassed').count(), { timeout: 15_000 }).toBe(1);
    const shown = await page.locator('body').innerText();
    expect(shown).toContain('phase1/maxFailures');
    expect(shown).toContain('The number of failed tests 1 exceeds the allowed threshold value 0');
    expect(shown).toContain(`Checklist lines without a passing test: "${failing}"`);
    expect(shown).toContain('phase1/minTestsCount');
    await page.close();
  });

  it('refuses to touch a report whose layout it does not know, naming what changed', () => {
    expect(() => deferReportApp('<html><script src="app.js"></script></html>')).toThrow(ReportLayoutError);
    expect(() => deferReportApp('<html><script src="app.js"></script></html>')).toThrow(/0 app script tag\(s\).*allure-single-file\.ts/);
  });
});
