import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../hypervisor/paths.ts';
import { phaseById } from '../suites/phases.ts';
import { generateReportWithQualityGate } from './allure-generate.ts';
import { tempDir, writeAllureResult } from './sample-run.ts';

const phase1 = phaseById('phase1');
const failing = phase1.checklist[0]?.text as string;

/** A widget of the single-file report: its data is inlined as d("widgets/<name>.json", "<base64>"). */
function reportWidget(html: string, name: string): unknown {
  const data = new RegExp(`d\\("widgets/${name}\\.json","([A-Za-z0-9+/=]*)"\\)`).exec(html)?.[1];
  if (data === undefined) throw new Error(`the report has no widgets/${name}.json`);
  return JSON.parse(Buffer.from(data, 'base64').toString('utf8'));
}

describe('the report the gate writes, with its quality gate', () => {
  it('records the phase quality gate evaluated on the results it shows, and defers its app script', async () => {
    const run = await tempDir('allure-generate');
    const results = path.join(run, 'allure-results');
    for (const line of phase1.checklist) await writeAllureResult(results, phase1, line.text, line.text === failing ? 'failed' : 'passed', line.text === failing ? `${line.text} did not hold` : undefined);
    // allurerc.mjs reads the phase and where reports live from the environment, as under allure-cli.ts.
    process.env.GATE_PHASE = 'phase1';
    process.env.GATE_REPORTS_DIR = run;
    // Not allurerc.mjs's default output under GATE_REPORTS_DIR: the report goes where it is asked to.
    const output = path.join(run, 'gate-report');
    await generateReportWithQualityGate(results, output, repoRoot);

    const html = await readFile(path.join(output, 'index.html'), 'utf8');
    expect(reportWidget(html, 'statistic')).toMatchObject({ total: phase1.checklist.length, passed: phase1.checklist.length - 1, failed: 1 });
    const gate = JSON.stringify(reportWidget(html, 'quality-gate'));
    expect(gate).toContain('phase1/everyLinePassed');
    expect(gate).toContain('phase1/maxFailures');
    expect(gate).toContain(`Checklist lines without a passing test: \\"${failing}\\"`);
    expect(html.split('<script defer src="data:text/javascript;base64,').length - 1).toBe(1);
    expect(html).not.toContain('<script   src="data:text/javascript;base64,');
  }, 120_000);

  it('judges a retried line by its last attempt: a failure that passed on retry does not fail the quality gate', async () => {
    const run = await tempDir('allure-generate');
    const results = path.join(run, 'allure-results');
    // The first attempt at the first line failed; Playwright retried it and it passed.
    await writeAllureResult(results, phase1, failing, 'failed', `${failing} flaked`);
    for (const file of await readdir(results)) {
      const written = path.join(results, file);
      await writeFile(written, (await readFile(written, 'utf8')).replace('"start":1000,"stop":2000', '"start":100,"stop":500'));
    }
    for (const line of phase1.checklist) await writeAllureResult(results, phase1, line.text, 'passed');
    process.env.GATE_PHASE = 'phase1';
    process.env.GATE_REPORTS_DIR = run;
    const output = path.join(run, 'gate-report');
    await generateReportWithQualityGate(results, output, repoRoot);

    const gate = JSON.stringify(reportWidget(await readFile(path.join(output, 'index.html'), 'utf8'), 'quality-gate'));
    expect(gate).toContain('"success":true');
    expect(gate).not.toContain('"success":false');
  }, 120_000);
});
