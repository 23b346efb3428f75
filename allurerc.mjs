import { phaseById } from './suites/phases.ts';
import { phaseQualityGate } from './gate-runner/quality-gate-rules.ts';

// `npm run gate -- <phase>` sets GATE_PHASE; by hand (npx allure ...) the first phase is assumed.
const phase = phaseById(process.env.GATE_PHASE ?? 'phase1');
const name = `ChoirOS gate: ${phase.title}`;
// One history file per phase next to the ledger, so reports show trends across runs; the nightly
// workflow restores it from its cache before a run and saves it after.
const reportsDir = process.env.GATE_REPORTS_DIR?.trim() || 'reports';
const historyPath = `${reportsDir}/allure-history/${phase.id}.jsonl`;

/** Allure 3 configuration (the `allure` package's main module is its CLI, so no defineConfig import). */
export default {
  name,
  output: `${reportsDir}/allure-report`,
  historyPath,
  // The quality gate's own evaluation reads the history but adds nothing (allure-cli.ts runAllure).
  appendHistory: process.env.GATE_ALLURE_APPEND_HISTORY !== 'false',
  plugins: {
    awesome: {
      options: { reportName: name, reportLanguage: 'en', singleFile: true, groupBy: ['epic', 'feature', 'story'] },
    },
  },
  qualityGate: phaseQualityGate(phase),
};
