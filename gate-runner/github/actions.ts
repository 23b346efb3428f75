import type { components } from '@octokit/openapi-types';
import type { GitHubClient } from './client.ts';
import { GitHubError, RunInProgressError } from './errors.ts';

export type WorkflowRun = components['schemas']['workflow-run'];
export type WorkflowJob = components['schemas']['job'];

/** `GET /repos/{o}/{r}/actions/workflows/{file}/runs?branch=&status=`, newest first, every page. */
export async function listWorkflowRuns(client: GitHubClient, options: { workflow?: string; branch?: string; status?: 'completed' | 'success' | 'in_progress'; limit?: number } = {}): Promise<WorkflowRun[]> {
  const workflow = options.workflow ?? client.connection.workflow;
  const query = new URLSearchParams({ per_page: '100' });
  const branch = options.branch ?? client.connection.branch;
  if (branch) query.set('branch', branch);
  if (options.status) query.set('status', options.status);
  return client.paginate<WorkflowRun>(client.repoPath(`/actions/workflows/${encodeURIComponent(workflow)}/runs?${query}`), 'workflow_runs', options.limit ?? 100);
}

/** The run's jobs with their steps (`GET /repos/{o}/{r}/actions/runs/{id}/jobs`); refuses a run not yet completed. */
export async function runJobs(client: GitHubClient, run: Pick<WorkflowRun, 'id' | 'status' | 'html_url'>): Promise<WorkflowJob[]> {
  if (run.status !== 'completed') throw new RunInProgressError(run.html_url, run.status ?? 'unknown');
  const jobs = await client.paginate<WorkflowJob>(client.repoPath(`/actions/runs/${run.id}/jobs?per_page=100`), 'jobs');
  const unfinished = jobs.find((job) => job.status !== 'completed');
  if (unfinished) throw new RunInProgressError(unfinished.html_url ?? run.html_url, unfinished.status);
  return jobs;
}

/** The two most recent completed runs on the branch (older first), the pair Phase 2 compares. */
export async function lastTwoCompletedRuns(client: GitHubClient): Promise<[WorkflowRun, WorkflowRun]> {
  const runs = await listWorkflowRuns(client, { status: 'completed', limit: 2 });
  const [newer, older] = runs;
  if (!newer || !older) {
    throw new GitHubError(`${client.repository} has ${runs.length} completed run(s) of ${client.connection.workflow} on ${client.connection.branch}; Phase 2 compares two: push twice (the second build should hit the cache) and run again.`);
  }
  return [older, newer];
}

/** Milliseconds between two ISO timestamps of GitHub's, or undefined when either is missing. */
export function durationMs(startedAt: string | null | undefined, completedAt: string | null | undefined): number | undefined {
  if (!startedAt || !completedAt) return undefined;
  return Date.parse(completedAt) - Date.parse(startedAt);
}
