import { describe, expect, it } from 'vitest';
import { GitHubError } from './errors.ts';
import { flakeHubCacheUrl, flakesBuildStep, flakesJobName, lastTwoFlakesRuns } from './flakes-runs.ts';
import { LocalGitHub } from './local-github.ts';
import { localGitHubPerTest } from './testing/local-github-per-test.ts';

const localGitHub = localGitHubPerTest();

/** One completed flakes.yml run whose build step took `buildSeconds` of a three-minute job, and whose log is `log`. */
function addFlakesRun(github: LocalGitHub, id: number, options: { buildSeconds: number; log: string; jobName?: string }): void {
  const jobId = id * 10;
  const jobUrl = `https://github.com/choiros/gates/actions/runs/${id}/job/${jobId}`;
  github.runs.push({
    workflow: 'flakes.yml',
    branch: 'main',
    run: { id, status: 'completed', conclusion: 'success', html_url: `https://github.com/choiros/gates/actions/runs/${id}`, run_number: id, head_sha: `sha-${id}` },
    jobs: [
      { id: jobId - 1, status: 'completed', conclusion: 'success', name: 'lint', started_at: '2026-11-29T10:00:00Z', completed_at: '2026-11-29T10:00:30Z', steps: [] },
      {
        id: jobId,
        status: 'completed',
        conclusion: 'success',
        name: options.jobName ?? flakesJobName,
        html_url: jobUrl,
        started_at: '2026-11-29T10:00:00Z',
        completed_at: '2026-11-29T10:03:00Z',
        steps: [
          { name: 'Checkout', status: 'completed', conclusion: 'success', number: 1, started_at: '2026-11-29T10:00:00Z', completed_at: '2026-11-29T10:00:10Z' },
          { name: flakesBuildStep, status: 'completed', conclusion: 'success', number: 2, started_at: '2026-11-29T10:00:10Z', completed_at: new Date(Date.parse('2026-11-29T10:00:10Z') + options.buildSeconds * 1000).toISOString() },
        ],
      },
    ],
  });
  github.logs.set(jobId, options.log);
}

const coldLog = ["building '/nix/store/aaa-hypervisor.drv'...", "building '/nix/store/bbb-sandbox.drv'...", "copying path '/nix/store/ccc-glibc' from 'https://cache.nixos.org'..."].join('\n');
const warmLog = ['FlakeHub cache is enabled', `copying path '/nix/store/ddd-hypervisor' from '${flakeHubCacheUrl}'...`, `copying path '/nix/store/eee-sandbox' from '${flakeHubCacheUrl}'...`, "copying path '/nix/store/ccc-glibc' from 'https://cache.nixos.org'..."].join('\n');

describe('the two latest flakes workflow runs, as Phase 2 reads them (local GitHub REST stand-in)', () => {
  it('reads the older then the newer run: the build job\'s step and job durations from their timestamps, FlakeHub hits and builds from the log', async () => {
    const { github, client } = await localGitHub();
    addFlakesRun(github, 41, { buildSeconds: 150, log: coldLog });
    addFlakesRun(github, 42, { buildSeconds: 20, log: warmLog });

    const [older, newer] = await lastTwoFlakesRuns(client);

    expect(older).toMatchObject({ id: 41, runNumber: 41, url: 'https://github.com/choiros/gates/actions/runs/41', conclusion: 'success', headSha: 'sha-41', jobUrl: 'https://github.com/choiros/gates/actions/runs/41/job/410', jobConclusion: 'success', buildStepConclusion: 'success', buildStepMs: 150_000, jobMs: 180_000, flakeHubEnabled: false });
    expect(older.counts).toMatchObject({ hits: [], misses: ['/nix/store/aaa-hypervisor.drv', '/nix/store/bbb-sandbox.drv'] });
    expect(newer).toMatchObject({ id: 42, buildStepMs: 20_000, jobMs: 180_000, flakeHubEnabled: true });
    expect(newer.counts).toMatchObject({ hits: ['/nix/store/ddd-hypervisor', '/nix/store/eee-sandbox'], misses: [] });
  });

  it('times the build step by its name, not the job\'s other steps, and reads a disabled FlakeHub cache as disabled', async () => {
    const { github, client } = await localGitHub();
    addFlakesRun(github, 41, { buildSeconds: 150, log: coldLog });
    addFlakesRun(github, 42, { buildSeconds: 20, log: ['FlakeHub cache is disabled', coldLog].join('\n') });
    const newer = github.runs[1]?.jobs[1];
    newer?.steps?.unshift({ name: 'Build metadata', status: 'completed', conclusion: 'skipped', number: 0, started_at: '2026-11-29T10:00:00Z', completed_at: '2026-11-29T10:00:01Z' });

    const [, run] = await lastTwoFlakesRuns(client);

    expect(run).toMatchObject({ buildStepConclusion: 'success', buildStepMs: 20_000, flakeHubEnabled: false });
  });

  it('refuses a run without the "build flakes" job, naming the jobs it has', async () => {
    const { github, client } = await localGitHub();
    addFlakesRun(github, 41, { buildSeconds: 150, log: coldLog });
    addFlakesRun(github, 42, { buildSeconds: 20, log: warmLog, jobName: 'build' });
    const attempt = lastTwoFlakesRuns(client);
    await expect(attempt).rejects.toThrow(GitHubError);
    await expect(lastTwoFlakesRuns(client)).rejects.toThrow('run https://github.com/choiros/gates/actions/runs/42 has no job named "build flakes" (jobs: lint, build)');
  });
});
