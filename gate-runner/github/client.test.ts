import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it, onTestFinished } from 'vitest';
import { loadTargetDescription } from '../target-description.ts';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { durationMs, lastTwoCompletedRuns, listWorkflowRuns, runJobs } from './actions.ts';
import { GitHubClient, nextPageUrl } from './client.ts';
import { connectionFromEnv, connectionFromTarget, githubConnection, splitRepository } from './connection.ts';
import { ExpiredLogLinkError, MissingGitHubTokenError, RateLimitedError, RepositoryNotFoundError, RunInProgressError } from './errors.ts';
import { LocalGitHub } from './local-github.ts';
import { localGitHubPerTest } from './testing/local-github-per-test.ts';

const localGitHub = localGitHubPerTest();

function addRun(github: LocalGitHub, id: number, status: 'completed' | 'in_progress' = 'completed'): void {
  github.runs.push({
    workflow: 'flakes.yml',
    branch: 'main',
    run: { id, status, conclusion: status === 'completed' ? 'success' : null, html_url: `https://github.com/choiros/gates/actions/runs/${id}`, run_number: id, run_started_at: '2026-11-29T10:00:00Z' },
    jobs: [{ id: id * 10, status, name: 'build', html_url: `https://github.com/choiros/gates/actions/runs/${id}/job/${id * 10}`, started_at: '2026-11-29T10:00:05Z', completed_at: '2026-11-29T10:03:05Z', steps: [] }],
  });
}

describe('the GitHub REST client, against a local HTTP server speaking GitHub\'s REST shapes on 127.0.0.1', () => {
  it('lists workflow runs across pages by following the Link rel="next" header, newest first', async () => {
    const { github, client } = await localGitHub();
    github.pageSize = 2;
    for (const id of [101, 102, 103, 104, 105]) addRun(github, id);
    const runs = await listWorkflowRuns(client, { status: 'completed' });
    expect(runs.map((r) => r.id)).toEqual([105, 104, 103, 102, 101]);
    const pages = github.received.filter((r) => r.path.startsWith('/repos/choiros/gates/actions/workflows/flakes.yml/runs'));
    expect(pages).toHaveLength(3);
    expect(pages[0]?.path).toContain('branch=main');
    expect(pages.every((p) => p.authorization === `Bearer ${github.token}`)).toBe(true);
  });

  it('stops at the limit it is given: no more runs and no page past them', async () => {
    const { github, client } = await localGitHub();
    github.pageSize = 2;
    for (const id of [101, 102, 103, 104, 105]) addRun(github, id);
    expect((await listWorkflowRuns(client, { status: 'completed', limit: 3 })).map((r) => r.id)).toEqual([105, 104, 103]);
    expect(github.received.filter((r) => r.path.startsWith('/repos/choiros/gates/actions/workflows/flakes.yml/runs'))).toHaveLength(2);
  });

  it("without a limit lists the newest 100 runs, of the connection's own workflow", async () => {
    const { github } = await localGitHub();
    const client = new GitHubClient(github.connection('choiros/gates', 'nix.yaml'));
    github.pageSize = 50;
    for (let id = 1; id <= 101; id += 1) addRun(github, id);
    for (const run of github.runs) run.workflow = 'nix.yaml';
    addRun(github, 500);
    const runs = await listWorkflowRuns(client, { status: 'completed' });
    expect(runs).toHaveLength(100);
    expect([runs[0]?.id, runs.at(-1)?.id]).toEqual([101, 2]);
  });

  it("follows every page of a run's jobs: no cap of 100", async () => {
    const { github, client } = await localGitHub();
    github.pageSize = 50;
    addRun(github, 7);
    const [run] = github.runs;
    const job = run!.jobs[0]!;
    run!.jobs = Array.from({ length: 150 }, (_, i) => ({ ...job, id: 7000 + i }));
    expect(await runJobs(client, run!.run)).toHaveLength(150);
  });

  it('finds the next page in a Link header whatever its place among prev, first and last', () => {
    const api = 'https://api.github.com/repositories/1/issues';
    expect(nextPageUrl(`<${api}?page=1>; rel="prev", <${api}?page=3>; rel="next", <${api}?page=9>; rel="last", <${api}?page=1>; rel="first"`)).toBe(`${api}?page=3`);
    expect(nextPageUrl(`<${api}?page=1>; rel="first", <${api}?page=8>; rel="prev"`)).toBeUndefined();
    expect(nextPageUrl(undefined)).toBeUndefined();
    // RFC 8288 allows no space around the `;`: a server or proxy that writes the header tightly still pages.
    expect(nextPageUrl(`<${api}?page=1>;rel="prev",<${api}?page=2>;rel="next"`)).toBe(`${api}?page=2`);
  });

  it('refuses a pagination link that only begins like the API\'s origin (the API address as userinfo before another host)', async () => {
    const { github, client } = await localGitHub();
    github.pageSize = 2;
    github.nextLinkOrigin = `${github.apiUrl}@elsewhere.invalid`;
    for (const id of [101, 102, 103]) addRun(github, id);
    await expect(listWorkflowRuns(client, { status: 'completed' })).rejects.toThrow(`refusing to send the GitHub token to ${github.apiUrl}@elsewhere.invalid`);
  });

  it('never follows a pagination link to another origin with the token attached', async () => {
    const { github, client } = await localGitHub();
    const elsewhere = await new LocalGitHub().start();
    try {
      github.pageSize = 2;
      github.nextLinkOrigin = elsewhere.apiUrl;
      for (const id of [101, 102, 103]) addRun(github, id);
      await expect(listWorkflowRuns(client, { status: 'completed' })).rejects.toThrow(`refusing to send the GitHub token to ${elsewhere.apiUrl}/`);
      expect(elsewhere.received).toHaveLength(0);
    } finally {
      await elsewhere.stop();
    }
  });

  it('picks the two most recent completed runs, older first, and their jobs', async () => {
    const { github, client } = await localGitHub();
    for (const id of [7, 8, 9]) addRun(github, id);
    addRun(github, 10, 'in_progress');
    const [older, newer] = await lastTwoCompletedRuns(client);
    expect([older.id, newer.id]).toEqual([8, 9]);
    const jobs = await runJobs(client, newer);
    expect(jobs.map((j) => j.id)).toEqual([90]);
  });

  it('downloads a job log through the 302 redirect, without sending the token to the download URL', async () => {
    const { github, client } = await localGitHub();
    addRun(github, 5);
    github.logs.set(50, "copying path '/nix/store/abc-choiros-app' from 'https://cache.flakehub.com'...\n");
    const log = await client.jobLog(50, 'https://github.com/choiros/gates/actions/runs/5/job/50');
    expect(log).toContain('copying path');
    const download = github.received.find((r) => r.path === '/_signed-logs/50');
    expect(download?.authorization).toBeUndefined();
  });

  it('names an expired log link', async () => {
    const { github, client } = await localGitHub();
    addRun(github, 6);
    github.logs.set(60, 'old');
    github.expiredLogs.add(60);
    const attempt = client.jobLog(60, 'https://github.com/choiros/gates/actions/runs/6/job/60');
    await expect(attempt).rejects.toThrow(ExpiredLogLinkError);
    await expect(client.jobLog(60, 'https://github.com/choiros/gates/actions/runs/6/job/60')).rejects.toThrow(/job https:\/\/github.com\/choiros\/gates\/actions\/runs\/6\/job\/60 .* answered 403 .*expire/);
  });

  it('refuses a run still in progress, naming it', async () => {
    const { github, client } = await localGitHub();
    addRun(github, 11, 'in_progress');
    const [run] = await listWorkflowRuns(client);
    if (!run) throw new Error('expected the run');
    await expect(runJobs(client, run)).rejects.toThrow(RunInProgressError);
    await expect(runJobs(client, run)).rejects.toThrow(/runs\/11 is still in_progress/);
  });

  it("lists only the runs on the connection's branch", async () => {
    const { github, client } = await localGitHub();
    addRun(github, 21);
    addRun(github, 22);
    const [, elsewhere] = github.runs;
    if (!elsewhere) throw new Error('expected the run');
    elsewhere.branch = 'feature';
    expect((await listWorkflowRuns(client)).map((run) => run.id)).toEqual([21]);
  });

  it('refuses a run that is queued or waiting, not only one in progress', async () => {
    const { github, client } = await localGitHub();
    addRun(github, 13, 'in_progress');
    const [added] = github.runs;
    if (!added) throw new Error('expected the run');
    added.run.status = 'queued';
    const [run] = await listWorkflowRuns(client);
    if (!run) throw new Error('expected the run');
    await expect(runJobs(client, run)).rejects.toThrow(/runs\/13 is still queued/);
  });

  it('times a step or job only when both its timestamps are there', () => {
    expect(durationMs('2026-11-29T10:00:05Z', '2026-11-29T10:03:05Z')).toBe(180_000);
    expect(durationMs('2026-11-29T10:00:05Z', null)).toBeUndefined();
    expect(durationMs(undefined, '2026-11-29T10:03:05Z')).toBeUndefined();
  });

  it('refuses a completed run while one of its jobs is still running, naming the job', async () => {
    const { github, client } = await localGitHub();
    addRun(github, 12);
    const [added] = github.runs;
    const [job] = added?.jobs ?? [];
    if (!job) throw new Error('expected the job');
    job.status = 'in_progress';
    const [run] = await listWorkflowRuns(client);
    if (!run) throw new Error('expected the run');
    await expect(runJobs(client, run)).rejects.toThrow(RunInProgressError);
    await expect(runJobs(client, run)).rejects.toThrow(/runs\/12\/job\/120 is still in_progress/);
  });

  it('says a 404 repository is missing, with its name', async () => {
    const { client } = await localGitHub();
    const elsewhere = new GitHubClient({ ...client.connection, owner: 'nobody', repo: 'nothing' });
    await expect(listWorkflowRuns(elsewhere)).rejects.toThrow(RepositoryNotFoundError);
    await expect(listWorkflowRuns(elsewhere)).rejects.toThrow(/no repository nobody\/nothing visible to this token/);
  });

  it('reports a rate limit with the time it resets', async () => {
    const { github, client } = await localGitHub();
    github.rateLimitResetEpoch = Date.UTC(2026, 10, 29, 16, 0, 0) / 1000;
    const attempt = listWorkflowRuns(client);
    await expect(attempt).rejects.toThrow(RateLimitedError);
    await expect(listWorkflowRuns(client)).rejects.toThrow(/rate limit is exhausted .* resets at 2026-11-29T16:00:00.000Z/);
  });
});

describe('where the client gets its repository and token', () => {
  it('a missing token is named with the variable to export', () => {
    expect(() => connectionFromEnv({ GATE_GITHUB_REPOSITORY: 'choiros/gates' })).toThrow(MissingGitHubTokenError);
    expect(() => connectionFromEnv({ GATE_GITHUB_REPOSITORY: 'choiros/gates' })).toThrow(/GATE_GITHUB_REPOSITORY=choiros\/gates is set but GITHUB_TOKEN is not/);
    expect(connectionFromEnv({})).toBeUndefined();
  });

  it("reads the target description's github section, the token from the variable it names", () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'targets-'));
    writeFileSync(path.join(dir, 'ci.json'), JSON.stringify({ github: { repository: 'choiros/gates', token: { env: 'CI_GH_TOKEN' }, branch: 'trunk' } }));
    const target = loadTargetDescription('ci', dir);
    expect(connectionFromTarget(target, { CI_GH_TOKEN: 'ghs_x' })).toEqual({ apiUrl: 'https://api.github.com', owner: 'choiros', repo: 'gates', token: 'ghs_x', workflow: 'flakes.yml', branch: 'trunk' });
    expect(() => connectionFromTarget(target, {})).toThrow(/github.token comes from the environment variable CI_GH_TOKEN, which is not set/);
  });
  it('takes the workflow and branch from GATE_GITHUB_WORKFLOW and GATE_GITHUB_BRANCH, and the API URL without its trailing slash', () => {
    expect(connectionFromEnv({ GATE_GITHUB_REPOSITORY: 'choiros/gates', GITHUB_TOKEN: 'ghs_x', GITHUB_API_URL: 'https://ghe.example/api/v3/', GATE_GITHUB_WORKFLOW: 'nix.yml', GATE_GITHUB_BRANCH: 'trunk' })).toEqual({ apiUrl: 'https://ghe.example/api/v3', owner: 'choiros', repo: 'gates', token: 'ghs_x', workflow: 'nix.yml', branch: 'trunk' });
  });

  it('defaults to flakes.yml on main at api.github.com, and takes only owner/name as the repository', () => {
    expect(connectionFromEnv({ GATE_GITHUB_REPOSITORY: 'choiros/gates', GITHUB_TOKEN: 'ghs_x' })).toEqual({ apiUrl: 'https://api.github.com', owner: 'choiros', repo: 'gates', token: 'ghs_x', workflow: 'flakes.yml', branch: 'main' });
    for (const wrong of ['choiros', 'choiros/gates/issues', 'https://github.com/choiros/gates', 'choiros/gates extra']) {
      expect(() => splitRepository(wrong, 'GATE_GITHUB_REPOSITORY'), wrong).toThrow(`GATE_GITHUB_REPOSITORY="${wrong}" is not "owner/name"`);
    }
  });

  it("prefers the target's github section to the ad-hoc environment, its API URL without a trailing slash", () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'targets-'));
    writeFileSync(path.join(dir, 'ci.json'), JSON.stringify({ github: { repository: 'choiros/gates', apiUrl: 'https://ghe.example/api/v3/' } }));
    const connection = githubConnection(loadTargetDescription('ci', dir), { GITHUB_TOKEN: 'ghs_x', GATE_GITHUB_REPOSITORY: 'someone/else' });
    expect(connection).toMatchObject({ apiUrl: 'https://ghe.example/api/v3', owner: 'choiros', repo: 'gates' });
  });
});

/** A server on 127.0.0.1 that answers every request with `status` and `headers`, stopped when the test finishes. */
async function answering(status: number, headers: Record<string, string> = {}): Promise<GitHubClient> {
  const server = createServer((_req, res) => res.writeHead(status, { 'content-type': 'application/json', ...headers }).end('{"message":"no"}'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return new GitHubClient({ apiUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, owner: 'choiros', repo: 'gates', token: 'ghs_test', workflow: 'flakes.yml', branch: 'main' });
}

describe('GitHub answers the client cannot use', () => {
  it('reads a 429 with Retry-After as a rate limit that resets that many seconds later', async () => {
    const client = await answering(429, { 'retry-after': '120' });
    const before = Date.now();
    const failure = await client.request('GET', client.repoPath('/issues')).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(RateLimitedError);
    const resetAt = (failure as RateLimitedError).resetAt?.getTime() ?? 0;
    expect(resetAt).toBeGreaterThanOrEqual(before + 120_000);
    expect(resetAt).toBeLessThanOrEqual(Date.now() + 120_000);
  });

  it('follows a 301 as well as a 302 to the log, and reads a download answered 401 as an expired link', async () => {
    const jobUrl = 'https://github.com/choiros/gates/actions/runs/12/job/120';
    let download = 200;
    const server = createServer((req, res) => {
      if (req.url === '/_signed-log') return void res.writeHead(download, { 'content-type': 'text/plain' }).end('the log');
      res.writeHead(301, { location: '/_signed-log' }).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const client = new GitHubClient({ apiUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, owner: 'choiros', repo: 'gates', token: 'ghs_test', workflow: 'flakes.yml', branch: 'main' });
    expect(await client.jobLog(120, jobUrl)).toBe('the log');
    download = 401;
    await expect(client.jobLog(120, jobUrl)).rejects.toThrow(ExpiredLogLinkError);
  });

  it('reads a job log answered 410 Gone as an expired log link', async () => {
    const client = await answering(410);
    await expect(client.jobLog(120, 'https://github.com/choiros/gates/actions/runs/12/job/120')).rejects.toThrow(ExpiredLogLinkError);
  });
});
