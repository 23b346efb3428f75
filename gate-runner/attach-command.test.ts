import path from 'node:path';
import { afterEach, describe, expect, it, onTestFinished, vi } from 'vitest';
import { phaseById } from '../suites/phases.ts';
import { attachCommand } from './attach-command.ts';
import { LocalGitHub } from './github/local-github.ts';
import { tempDir } from './sample-run.ts';
import { recordedRun } from './testing/recorded-runs.ts';

afterEach(() => {
  vi.restoreAllMocks();
});

/** What `npm run gate -- attach ARGS` says and exits with, in a folder with no runs and no GitHub settings. */
async function attach(args: readonly string[]): Promise<{ exitCode: number; stderr: string }> {
  const stderr: string[] = [];
  vi.spyOn(console, 'error').mockImplementation((line: unknown) => void stderr.push(String(line)));
  const exitCode = await attachCommand(args, '/nonexistent-gates-dir', {});
  return { exitCode, stderr: stderr.join('\n') };
}

describe('npm run gate -- attach', () => {
  it.each([['12abc'], ['1.5'], ['0'], ['007'], ['-3'], ['#12'], ['12 ']])('refuses %j as an issue number with exit 2, naming it, before anything else', async (issue) => {
    const { exitCode, stderr } = await attach(['phase1', issue]);
    expect(exitCode).toBe(2);
    expect(stderr).toContain(`"${issue}" is not an issue number`);
    expect(stderr).toContain('usage: npm run gate -- attach <phase> <issue number>');
  });

  it('names what is missing or extra', async () => {
    expect((await attach([])).stderr).toContain('no phase given');
    expect((await attach(['phase1'])).stderr).toContain('no issue number given');
    expect((await attach(['phase1', '12', 'extra'])).stderr).toContain('unexpected argument(s) extra');
  });

  it('takes a plain issue number, then asks for the GitHub settings it needs', async () => {
    const { exitCode, stderr } = await attach(['phase1', '12']);
    expect(exitCode).toBe(2);
    expect(stderr).toContain('GITHUB_TOKEN and GITHUB_REPOSITORY must both be set to comment on issue #12');
  });
});

describe('npm run gate -- attach, posting (local GitHub REST stand-in)', () => {
  it('comments on the named issue with the latest summary of the phase for the target the environment names, linking the CI run, and exits 0', async () => {
    const github = await new LocalGitHub().start();
    onTestFinished(() => github.stop());
    github.repositories.add('choiros/gates');
    for (let n = 1; n <= 12; n++) github.seed('choiros/gates', { title: `issue ${n}`, body: 'tracking', labels: [] });
    const deployed = 'https://choiros.example';
    const gatesDir = path.join(await tempDir('attach-command'), 'gates');
    const phase1 = phaseById('phase1');
    await recordedRun(gatesDir, phase1, { runId: 'run-deployed', targetId: deployed, endedAt: new Date('2026-02-20T10:00:00Z') });
    await recordedRun(gatesDir, phase1, { runId: 'run-local', endedAt: new Date('2026-02-21T10:00:00Z') });
    const said: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((line: unknown) => void said.push(String(line)));
    const env = { GITHUB_TOKEN: github.token, GITHUB_REPOSITORY: 'choiros/gates', GITHUB_API_URL: github.apiUrl, GATE_TARGET_URL: deployed, GITHUB_ACTIONS: 'true', GITHUB_SERVER_URL: 'https://github.com', GITHUB_RUN_ID: '4321' };

    expect(await attachCommand(['phase1', '12'], gatesDir, env)).toBe(0);

    expect(github.issues.filter((issue) => issue.comments.length).map((issue) => issue.number)).toEqual([12]);
    const [comment] = github.issues[11]?.comments ?? [];
    expect(comment?.body).toContain('for run `run-deployed`');
    expect(comment?.body).toContain('artifacts of [this CI run](https://github.com/choiros/gates/actions/runs/4321)');
    expect(said.join('\n')).toContain(`gate attach: phase1 run run-deployed on ${deployed} attached to #12: `);
  });
});
