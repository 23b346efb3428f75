import path from 'node:path';
import { AllureReport, readConfig } from '@allurereport/core';
import { runsAsScript } from '../hypervisor/paths.ts';
import { deferReportAppInFile } from './allure-single-file.ts';

/**
 * The report `allure generate` would write into `output`, plus the phase's quality gate
 * (allurerc.mjs, GATE_PHASE names the phase) evaluated on the same results and recorded in it, so
 * its Quality Gates view shows the rules that decided the verdict (`allure generate` leaves that
 * view empty; only `allure run` fills it), with the app script deferred so the file renders on a
 * slow machine too. allurerc.mjs is read from `cwd`.
 */
export async function generateReportWithQualityGate(resultsDir: string, output: string, cwd: string = process.cwd()): Promise<void> {
  const config = await readConfig(cwd, 'allurerc.mjs', { output: path.resolve(output) });
  const report = new AllureReport(config);
  await report.start();
  await report.readDirectory(path.resolve(resultsDir));
  if (report.hasQualityGate) {
    const { results } = await report.validate({ trs: await report.store.allTestResults({ includeRetries: false }) });
    report.realtimeDispatcher.sendQualityGateResults(results);
  }
  await report.done();
  // The one file must render however slowly the browser that opens it runs (allure-single-file.ts).
  await deferReportAppInFile(path.resolve(output, 'index.html'));
}

/** `node gate-runner/allure-generate.ts RESULTS_DIR OUTPUT_DIR`, with GATE_PHASE set. Run by allure-cli.ts. */
if (runsAsScript(import.meta.url)) {
  const [resultsDir, output] = process.argv.slice(2);
  if (!resultsDir || !output) {
    console.error('usage: node gate-runner/allure-generate.ts RESULTS_DIR OUTPUT_DIR (GATE_PHASE names the phase)');
    process.exit(2);
  }
  await generateReportWithQualityGate(resultsDir, output);
}
