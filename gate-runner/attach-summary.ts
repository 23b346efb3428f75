import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Phase } from '../suites/phases.ts';
import { commentOnIssue } from './github-issues.ts';
import type { GitHubConnection } from './github/connection.ts';
import { latestRun } from './latest-run.ts';

export interface AttachRequest {
  gatesDir: string;
  phase: Phase;
  targetId: string;
  issue: number;
  github: GitHubConnection;
  /** This CI run's page (artifacts: Allure report, verdict, evidence); undefined outside CI. */
  runLink: string | undefined;
}

/** The comment: the phase's summary.md as written by its latest run, with the report link in CI. */
export function attachmentBody(summary: string, runId: string, runLink: string | undefined): string {
  const link = runLink ? `Allure report, verdict and evidence: artifacts of [this CI run](${runLink}).` : 'Run outside CI: the Allure report, verdict and evidence are on the machine that ran it.';
  return `${summary.trimEnd()}\n\n---\n${link} Posted by \`npm run gate -- attach\` for run \`${runId}\`.\n`;
}

/** Posts the latest run's summary.md for the phase and target as a comment on the named issue. */
export async function attachSummary(request: AttachRequest): Promise<{ commentUrl: string; runId: string }> {
  const run = await latestRun(request.gatesDir, request.phase, request.targetId);
  const summary = await readFile(path.join(run.runDir, 'summary.md'), 'utf8');
  const commentUrl = await commentOnIssue(request.github, request.issue, attachmentBody(summary, run.entry.runId, request.runLink));
  return { commentUrl, runId: run.entry.runId };
}
