import { rm } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { fromRoot, repoRoot } from '../hypervisor/paths.ts';
import type { Phase } from '../suites/phases.ts';
import { claimActiveRun } from './active-run.ts';
import { runPhasesInOrder } from './all-phases.ts';
import { attachCommand } from './attach-command.ts';
import { defectsCommand } from './defects-command.ts';
import { readAllureResults } from './allure-results.ts';
import { allureReportFile, generateAllureReport } from './allure-cli.ts';
import { currentCommit } from './commit.ts';
import { draftDefect, writeDefectDraft } from './defect.ts';
import { collectEnvironmentInfo, writeAllureEnvironment } from './environment-info.ts';
import { hashEvidence } from './evidence-files.ts';
import { evidenceDirName } from './evidence-layout.ts';
import { phaseFromArgs } from './gate-args.ts';
import { gateTargetFromEnv } from './gate-target.ts';
import { githubIssuesFromEnv, openIssue } from './github-issues.ts';
import { assertPredecessorPassed, recordRun } from './ledger.ts';
import { evaluateQualityGate } from './quality-gate.ts';
import { gatesDirIn, reportsDirFromEnv } from './reports-dir.ts';
import { newRunId } from './run-id.ts';
import { renderSummary, writeSummary } from './summary.ts';
import { buildVerdict, writeVerdict } from './verdict.ts';
import { renderBundleCheck, verifyBundle, verifyCommand } from './verify.ts';

/** The script that runs `runGateCommand` (`npm run gate`). Tests that run it as a child process take its path from here, so `vitest related` on this file finds them. */
export const gateMainScript = fromRoot('gate-runner', 'main.ts');

/**
 * `npm run gate -- <phase>`: runs the phase's suite and decides the gate. It refuses to start while
 * another gate run is active or when the previous phase has no passing verdict for this target;
 * there is no flag to bypass either. Exit code 0 only when the gate passed. With no phase it runs
 * them all in order (all-phases.ts); `attach` and `defects` report a finished run to GitHub.
 */
export async function runGateCommand(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  // GATE_REPORTS_DIR (reports-dir.ts, also read by playwright.config.ts) moves every output of the run together.
  const gatesDir = gatesDirIn(reportsDirFromEnv());
  if (command === undefined) return runPhasesInOrder(runPhase);
  if (command === 'verify') return verifyCommand(rest);
  if (command === 'attach') return attachCommand(rest, gatesDir);
  if (command === 'defects') return defectsCommand(rest, gatesDir);
  return runPhase(phaseFromArgs([...argv]));
}

const shown = (file: string): string => {
  const relative = path.relative(repoRoot, file);
  return relative.startsWith('..') ? file : relative || '.';
};

/** Playwright's own artifacts (traces and screenshots of failures) go to the run too, not to the shared test-results/. */
async function runSuite(phase: Phase, outputDir: string, env: Record<string, string>): Promise<number> {
  const suite = await execa('playwright', ['test', '--project', phase.id, '--output', outputDir], {
    cwd: repoRoot,
    preferLocal: true,
    reject: false,
    stdio: 'inherit',
    env: { ...process.env, ...env },
  });
  return suite.exitCode ?? 1;
}

async function runPhase(phase: Phase): Promise<number> {
  const reportsDir = reportsDirFromEnv();
  const resultsDir = path.join(reportsDir, 'allure-results');
  const reportDir = path.join(reportsDir, 'allure-report');
  const gatesDir = gatesDirIn(reportsDir);
  const target = gateTargetFromEnv();
  const runId = newRunId();
  const claim = await claimActiveRun(gatesDir, { phase: phase.id, runId });
  try {
    await assertPredecessorPassed(phase, target, gatesDir);
    const runDir = path.join(gatesDir, phase.id, runId);
    const evidenceDir = path.join(runDir, evidenceDirName);
    console.log(`gate: ${phase.title} against ${target.id}, run ${runId}`);

    // The quality gate counts what is in the results directory: only this run may be there.
    await rm(resultsDir, { recursive: true, force: true });
    await rm(reportDir, { recursive: true, force: true });

    const startedAt = new Date();
    const commit = await currentCommit();
    const artifactsDir = path.join(runDir, 'playwright');
    const suiteExit = await runSuite(phase, artifactsDir, { GATE_PHASE: phase.id, GATE_RUN_ID: runId, GATE_EVIDENCE_DIR: evidenceDir });
    const endedAt = new Date();

    const environment = await collectEnvironmentInfo(target, commit);
    await writeAllureEnvironment(resultsDir, environment);
    const report = await generateAllureReport(shown(resultsDir), shown(reportDir), phase.id, reportsDir);
    if (report.exitCode !== 0) console.error(`gate: the Allure report could not be generated (${report.command}):\n${report.output}`);
    const qualityGate = await evaluateQualityGate(phase, shown(resultsDir), reportsDir);

    const verdict = buildVerdict({
      runId,
      phase,
      target,
      commit,
      startedAt,
      endedAt,
      outcomes: await readAllureResults(resultsDir),
      evidence: await hashEvidence(evidenceDir, runDir),
      qualityGate,
      environment,
    });
    const verdictFile = await writeVerdict(runDir, verdict);
    // The verdict vouches for exactly these bytes: re-read them now, so a verdict that does not match its own evidence is never recorded.
    const selfCheck = await verifyBundle(verdictFile);
    if (selfCheck.problems.length) {
      console.error(`gate: FAILED its own evidence check, so this run is not recorded in the ledger.\n${renderBundleCheck(selfCheck)}`);
      return 1;
    }
    const reportIndex = allureReportFile(reportDir);
    const summaryFile = await writeSummary(runDir, renderSummary(phase, verdict, { evidenceBaseUrl: process.env.GATE_EVIDENCE_BASE_URL, allureReport: shown(reportIndex) }));
    await recordRun(gatesDir, verdictFile, verdict);

    console.log('');
    console.log(`Allure report: ${shown(reportIndex)}${report.exitCode === 0 ? '' : ' (generation FAILED, see above)'}`);
    console.log(`Verdict:       ${shown(verdictFile)}`);
    console.log(`Summary:       ${shown(summaryFile)}`);
    console.log(`Evidence:      ${shown(evidenceDir)} (${verdict.evidence.length} files, sha256 in the verdict)`);

    if (!verdict.passed) {
      const draft = draftDefect(phase, verdict, {
        evidenceBaseUrl: process.env.GATE_EVIDENCE_BASE_URL,
        files: { verdict: shown(verdictFile), summary: shown(summaryFile), 'Allure report': shown(reportIndex), 'Playwright traces and failure screenshots': shown(artifactsDir) },
      });
      const files = await writeDefectDraft(runDir, draft);
      console.log(`Defect draft:  ${shown(files.markdown)}`);
      const github = githubIssuesFromEnv();
      if (github) {
        try {
          const issue = await openIssue(github, draft);
          console.log(`Defect issue:  ${issue.url}`);
        } catch (error) {
          console.error(`gate: ${(error as Error).message}`);
        }
      } else {
        console.log('Defect issue:  not opened (set GITHUB_TOKEN and GITHUB_REPOSITORY to open it on GitHub)');
      }
    }

    const passedLines = verdict.lines.filter((l) => l.status === 'passed').length;
    const seconds = (verdict.durationMs / 1000).toFixed(1);
    console.log('');
    console.log(`${phase.title}: gate ${verdict.passed ? 'PASSED' : 'FAILED'} (${passedLines}/${verdict.lines.length} lines passed, quality gate ${qualityGate.passed ? 'held' : 'failed'}, suite exit ${suiteExit}, ${seconds} s)`);
    if (!qualityGate.passed && qualityGate.output) console.log(qualityGate.output);
    return verdict.passed ? 0 : 1;
  } finally {
    await claim.release();
  }
}

