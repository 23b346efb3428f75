import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { hypervisorWithUsers } from '../hypervisor/auth/testing/hypervisor-with-users.ts';
import { phaseById } from '../suites/phases.ts';
import { defectsCommand } from './defects-command.ts';
import { gateUserPrefix, listGateUsers, sweepGateUsers } from './gate-users.ts';
import { LocalGitHub } from './github/local-github.ts';
import { defectLabels } from './line-defects.ts';
import { tempDir } from './sample-run.ts';
import { deleteRefusingFront } from './testing/delete-refusing-front.ts';
import { recordedRun } from './testing/recorded-runs.ts';

const phase5 = phaseById('phase5');
const [firstLine, secondLine] = phase5.checklist.map((line) => line.text) as [string, string];
const users = hypervisorWithUsers();

let github: LocalGitHub;
let said: string[];

beforeEach(async () => {
  github = await new LocalGitHub().start();
  github.repositories.add('choiros/gates');
  said = [];
  const keep = (line: unknown) => void said.push(String(line));
  vi.spyOn(console, 'log').mockImplementation(keep);
  vi.spyOn(console, 'error').mockImplementation(keep);
});

afterEach(async () => {
  vi.restoreAllMocks();
  await github.stop();
});

/** The environment `npm run gate -- defects` reads in CI, pointed at the local GitHub stand-in. */
const githubEnv = (): NodeJS.ProcessEnv => ({ GITHUB_TOKEN: github.token, GITHUB_REPOSITORY: 'choiros/gates', GITHUB_API_URL: github.apiUrl });

const gateIssues = () => github.issues.filter((issue) => issue.body.includes('choiros-gate-line'));

describe('npm run gate -- defects <phase> (local GitHub REST stand-in)', () => {
  it.each([
    [[], 'no phase given'],
    [['phase5', 'extra'], 'unexpected argument(s) extra'],
  ])('refuses %j with exit 2, naming what is wrong, and touches no issue', async (args, named) => {
    const gatesDir = path.join(await tempDir('defects'), 'gates');
    await recordedRun(gatesDir, phase5, { runId: 'night-1', failing: [firstLine] });
    expect(await defectsCommand(args, gatesDir, githubEnv())).toBe(2);
    expect(said.join('\n')).toContain(named);
    expect(said.join('\n')).toContain('usage: npm run gate -- defects <phase>');
    expect(github.received).toEqual([]);
  });

  it('refuses with exit 2 unless GITHUB_TOKEN and GITHUB_REPOSITORY are both set', async () => {
    const gatesDir = path.join(await tempDir('defects'), 'gates');
    await recordedRun(gatesDir, phase5, { runId: 'night-1', failing: [firstLine] });
    for (const env of [{ GITHUB_REPOSITORY: 'choiros/gates', GITHUB_API_URL: github.apiUrl }, { GITHUB_TOKEN: github.token, GITHUB_API_URL: github.apiUrl }]) {
      expect(await defectsCommand(['phase5'], gatesDir, env), JSON.stringify(Object.keys(env))).toBe(2);
    }
    expect(said.join('\n')).toContain('GITHUB_TOKEN and GITHUB_REPOSITORY must both be set');
    expect(github.received).toEqual([]);
  });

  it('reports the latest run of the phase for the target: one issue per line it failed, exit 0', async () => {
    const gatesDir = path.join(await tempDir('defects'), 'gates');
    await recordedRun(gatesDir, phase5, { runId: 'night-1', failing: [firstLine], endedAt: new Date('2026-02-20T10:01:00Z') });
    await recordedRun(gatesDir, phase5, { runId: 'night-2', failing: [secondLine], endedAt: new Date('2026-02-21T10:01:00Z') });
    await recordedRun(gatesDir, phase5, { runId: 'elsewhere', targetId: 'production', failing: [firstLine, secondLine], endedAt: new Date('2026-02-22T10:01:00Z') });

    expect(await defectsCommand(['phase5'], gatesDir, githubEnv())).toBe(0);

    expect(gateIssues().map((issue) => issue.title)).toEqual([`Gate line failing on local: ${secondLine}`.slice(0, 250)]);
    expect(gateIssues()[0]?.labels.map((label) => label.name)).toEqual(defectLabels('phase5'));
    expect(gateIssues()[0]?.body).toContain('run `night-2`');
    expect(said.at(-1)).toBe('gate defects: phase5 run night-2 on local failed; 1 issue update(s).');
  });

  it('closes the issue of a line the latest run passed again, and says the run passed', async () => {
    const gatesDir = path.join(await tempDir('defects'), 'gates');
    await recordedRun(gatesDir, phase5, { runId: 'night-1', failing: [firstLine], endedAt: new Date('2026-02-20T10:01:00Z') });
    expect(await defectsCommand(['phase5'], gatesDir, githubEnv())).toBe(0);
    await recordedRun(gatesDir, phase5, { runId: 'night-2', endedAt: new Date('2026-02-21T10:01:00Z') });

    expect(await defectsCommand(['phase5'], gatesDir, githubEnv())).toBe(0);

    expect(gateIssues()).toEqual([expect.objectContaining({ state: 'closed' })]);
    expect(said.at(-1)).toBe('gate defects: phase5 run night-2 on local passed; 1 issue update(s).');
  });

  it('on a deployed target first removes the gate users a run left there, leaving people alone', async () => {
    await users.register(`${gateUserPrefix}left-by-night-1`);
    await users.register('grace');
    const env = { ...githubEnv(), GATE_TARGET_URL: users.target.url, GATE_ADMIN_TOKEN: users.target.token };
    const gatesDir = path.join(await tempDir('defects'), 'gates');
    await recordedRun(gatesDir, phase5, { runId: 'night-1', targetId: users.target.url, failing: [firstLine] });

    expect(await defectsCommand(['phase5'], gatesDir, env)).toBe(0);

    expect(await listGateUsers(users.target.url, users.target.token)).toEqual([]);
    expect(said.join('\n')).toContain(`removed 1 gate user(s) left on ${users.target.url}: ${gateUserPrefix}left-by-night-1`);
    expect(gateIssues().map((issue) => issue.title)).toEqual([`Gate line failing on ${users.target.url}: ${firstLine}`.slice(0, 250)]);
  });

  it('in CI links each issue to the CI run and to the evidence under GATE_EVIDENCE_BASE_URL', async () => {
    const gatesDir = path.join(await tempDir('defects'), 'gates');
    await recordedRun(gatesDir, phase5, { runId: 'night-1', failing: [firstLine] });
    const env = { ...githubEnv(), GITHUB_ACTIONS: 'true', GITHUB_SERVER_URL: 'https://github.com', GITHUB_RUN_ID: '4321', GATE_EVIDENCE_BASE_URL: 'https://evidence.example/night-1' };

    expect(await defectsCommand(['phase5'], gatesDir, env)).toBe(0);

    const body = gateIssues()[0]?.body ?? '';
    expect(body).toContain('([CI run](https://github.com/choiros/gates/actions/runs/4321))');
    expect(body).toMatch(/\]\(https:\/\/evidence\.example\/night-1\/evidence\/[^)]*output\.txt\)/);
  });

  it('still reports the defects when the gate users cannot be listed, and says so in the issue', async () => {
    const env = { ...githubEnv(), GATE_TARGET_URL: users.target.url, GATE_ADMIN_TOKEN: 'wrong-token-of-some-length' };
    const gatesDir = path.join(await tempDir('defects'), 'gates');
    await recordedRun(gatesDir, phase5, { runId: 'night-1', targetId: users.target.url, failing: [firstLine] });

    expect(await defectsCommand(['phase5'], gatesDir, env)).toBe(0);

    expect(gateIssues()).toHaveLength(1);
    expect(gateIssues()[0]?.body).toContain(`## Gate users on ${users.target.url}\n\nCould not list or remove the gate users: `);
  });

  it('lists in the issue the gate users the target refused to remove, for a person to remove', async () => {
    await users.register(`${gateUserPrefix}refused-by-target`);
    const frontUrl = await deleteRefusingFront(users.target.url);
    const env = { ...githubEnv(), GATE_TARGET_URL: frontUrl, GATE_ADMIN_TOKEN: users.target.token };
    const gatesDir = path.join(await tempDir('defects'), 'gates');
    await recordedRun(gatesDir, phase5, { runId: 'night-1', targetId: frontUrl, failing: [firstLine] });

    expect(await defectsCommand(['phase5'], gatesDir, env)).toBe(0);

    const body = gateIssues()[0]?.body ?? '';
    expect(body).toContain(`## Gate users left on ${frontUrl}`);
    expect(body).toContain(`\`${gateUserPrefix}refused-by-target\``);
    expect((await listGateUsers(users.target.url, users.target.token)).map((user) => user.username)).toEqual([`${gateUserPrefix}refused-by-target`]);
    await sweepGateUsers(users.target.url, users.target.token);
  });
});
