import { countTranscript, type NixTranscriptCounts } from '../../nix/binary-cache/transcript.ts';
import { durationMs, lastTwoCompletedRuns, runJobs, type WorkflowJob, type WorkflowRun } from './actions.ts';
import type { GitHubClient } from './client.ts';
import { GitHubError } from './errors.ts';

export const flakesJobName = 'build flakes';
export const flakesBuildStep = 'Build the three flakes';
export const flakeHubCacheUrl = 'https://cache.flakehub.com';

/** One completed run of the flakes workflow, as Phase 2 reads it. */
export interface FlakesRun {
  id: number;
  runNumber: number | undefined;
  url: string;
  headSha: string | undefined;
  conclusion: string | null | undefined;
  jobUrl: string | undefined;
  jobConclusion: string | null | undefined;
  buildStepConclusion: string | null | undefined;
  /** The build step's duration from its timestamps (the /timing endpoint is being retired). */
  buildStepMs: number | undefined;
  jobMs: number | undefined;
  /** Hits (`copying path … from 'https://cache.flakehub.com'`) and misses (`building …drv`) in the job's log. */
  counts: NixTranscriptCounts;
  flakeHubEnabled: boolean;
}

async function readRun(client: GitHubClient, run: WorkflowRun): Promise<FlakesRun> {
  const jobs = await runJobs(client, run);
  const job: WorkflowJob | undefined = jobs.find((j) => j.name === flakesJobName);
  if (!job) throw new GitHubError(`run ${run.html_url} has no job named "${flakesJobName}" (jobs: ${jobs.map((j) => j.name).join(', ') || 'none'}): is .github/workflows/${client.connection.workflow} this checkout's flakes.yml?`);
  const step = job.steps?.find((s) => s.name === flakesBuildStep);
  const log = await client.jobLog(Number(job.id), job.html_url ?? run.html_url);
  return {
    id: Number(run.id),
    runNumber: run.run_number,
    url: run.html_url,
    headSha: run.head_sha,
    conclusion: run.conclusion,
    jobUrl: job.html_url ?? undefined,
    jobConclusion: job.conclusion,
    buildStepConclusion: step?.conclusion,
    buildStepMs: durationMs(step?.started_at, step?.completed_at),
    jobMs: durationMs(job.started_at, job.completed_at),
    counts: countTranscript(log, flakeHubCacheUrl),
    flakeHubEnabled: log.includes('FlakeHub cache is enabled'),
  };
}

/** The two most recent completed runs of the flakes workflow on the target's branch, older first. */
export async function lastTwoFlakesRuns(client: GitHubClient): Promise<[FlakesRun, FlakesRun]> {
  const [older, newer] = await lastTwoCompletedRuns(client);
  return [await readRun(client, older), await readRun(client, newer)];
}
