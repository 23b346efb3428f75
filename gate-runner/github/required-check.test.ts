import { afterEach, describe, expect, it } from 'vitest';
import path from 'node:path';
import { phaseById } from '../../suites/phases.ts';
import { GateRefusedError } from '../gate-refused.ts';
import { recordRun } from '../ledger.ts';
import { sampleRun, tempDir } from '../sample-run.ts';
import { writeVerdict } from '../verdict.ts';
import { GitHubClient } from './client.ts';
import { LocalGitHub, protectionBodyProblems } from './local-github.ts';
import { flakesCheckName, promoteFlakesCheck } from './required-check.ts';

const phase2 = phaseById('phase2');
const target = { kind: 'local' as const, id: 'ci' };
let server: LocalGitHub | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

async function setUp(): Promise<{ github: LocalGitHub; client: GitHubClient; gatesDir: string }> {
  server = await new LocalGitHub().start();
  server.repositories.add('choiros/gates');
  const client = new GitHubClient({ apiUrl: server.apiUrl, owner: 'choiros', repo: 'gates', token: server.token, workflow: 'flakes.yml', branch: 'main' });
  return { github: server, client, gatesDir: path.join(await tempDir('promote'), 'gates') };
}

async function phase2Run(gatesDir: string, failing: string[] = []): Promise<void> {
  const runDir = path.join(gatesDir, 'phase2', 'run-2');
  const verdict = await sampleRun(phase2, runDir, { runId: 'run-2', targetId: target.id, failing });
  await recordRun(gatesDir, await writeVerdict(runDir, verdict), verdict);
}

describe('promoting the flakes workflow to a required check, against a local HTTP server speaking GitHub\'s REST shapes', () => {
  it('refuses while the Phase 2 gate has not passed for the target, and changes nothing', async () => {
    const { github, client, gatesDir } = await setUp();
    await expect(promoteFlakesCheck(client, target, gatesDir)).rejects.toThrow(GateRefusedError);
    await phase2Run(gatesDir, [phase2.checklist[0]?.text ?? '']);
    await expect(promoteFlakesCheck(client, target, gatesDir)).rejects.toThrow(/refusing to make "build flakes" a required check on choiros\/gates: .*FAILED.*Run `npm run gate -- phase2` for target ci/);
    expect(github.received.filter((r) => r.method !== 'GET')).toEqual([]);
  });

  it('after a passing Phase 2 gate, requires the check through branch protection, keeping the checks already required', async () => {
    const { github, client, gatesDir } = await setUp();
    await phase2Run(gatesDir);
    const first = await promoteFlakesCheck(client, target, gatesDir);
    expect(first).toMatchObject({ repository: 'choiros/gates', branch: 'main', contexts: [flakesCheckName], phase2RunId: 'run-2' });
    expect(github.received.at(-1)).toMatchObject({ method: 'PUT', path: '/repos/choiros/gates/branches/main/protection' });

    github.protections.set('choiros/gates#main', { required_status_checks: { strict: false, contexts: ['ci / test'] } });
    const second = await promoteFlakesCheck(client, target, gatesDir);
    expect(second.contexts).toEqual(['ci / test', flakesCheckName]);
    expect(github.received.at(-1)).toMatchObject({ method: 'PATCH', path: '/repos/choiros/gates/branches/main/protection/required_status_checks' });
    expect(JSON.parse(github.received.at(-1)?.body ?? '{}')).toEqual({ strict: false, contexts: ['ci / test', flakesCheckName] });
  });
});

describe('reading the branch\'s protection', () => {
  it('keeps strict required checks when the protection names checks but not strict', async () => {
    const { github, client, gatesDir } = await setUp();
    await phase2Run(gatesDir);
    github.protections.set('choiros/gates#main', { required_status_checks: { contexts: ['ci / test'] } });
    await promoteFlakesCheck(client, target, gatesDir);
    expect(JSON.parse(github.received.at(-1)?.body ?? '{}')).toEqual({ strict: true, contexts: ['ci / test', flakesCheckName] });
  });

  it('reads only a 404 as "not protected yet": a refused read writes nothing', async () => {
    const { github, gatesDir } = await setUp();
    await phase2Run(gatesDir);
    const wrongToken = new GitHubClient({ apiUrl: github.apiUrl, owner: 'choiros', repo: 'gates', token: 'ghs_not_this_one', workflow: 'flakes.yml', branch: 'main' });
    await expect(promoteFlakesCheck(wrongToken, target, gatesDir)).rejects.toThrow(/-> 401/);
    expect(github.received.map((r) => r.method)).toEqual(['GET']);
  });
});

describe('promoting twice', () => {
  it('lists the check once, and the first promotion of an unprotected branch asks for nothing but strict required checks', async () => {
    const { github, client, gatesDir } = await setUp();
    await phase2Run(gatesDir);
    await promoteFlakesCheck(client, target, gatesDir);
    expect(JSON.parse(github.received.at(-1)?.body ?? '{}')).toEqual({ required_status_checks: { strict: true, contexts: [flakesCheckName] }, enforce_admins: null, required_pull_request_reviews: null, restrictions: null });
    const again = await promoteFlakesCheck(client, target, gatesDir);
    expect(again.contexts).toEqual([flakesCheckName]);
    expect(JSON.parse(github.received.at(-1)?.body ?? '{}')).toEqual({ strict: true, contexts: [flakesCheckName] });
  });
});

describe('promoting on a branch whose name has a slash', () => {
  it('protects that branch, its name encoded as one path segment', async () => {
    const { github, gatesDir } = await setUp();
    const client = new GitHubClient({ apiUrl: github.apiUrl, owner: 'choiros', repo: 'gates', token: github.token, workflow: 'flakes.yml', branch: 'release/2026' });
    await phase2Run(gatesDir);
    expect(await promoteFlakesCheck(client, target, gatesDir)).toMatchObject({ branch: 'release/2026', contexts: [flakesCheckName] });
    expect(github.received.at(-1)).toMatchObject({ method: 'PUT', path: '/repos/choiros/gates/branches/release%2F2026/protection' });
    expect([...github.protections.keys()]).toEqual(['choiros/gates#release/2026']);
  });
});

describe("the local stand-in's branch protection, as GitHub checks a PUT", () => {
  it('refuses a body missing any of the four keys, or checks without strict and contexts, naming what is missing', () => {
    expect(protectionBodyProblems({ required_status_checks: { strict: true, contexts: [] }, enforce_admins: null, required_pull_request_reviews: null, restrictions: null })).toEqual([]);
    expect(protectionBodyProblems({ required_status_checks: { strict: true, contexts: ['x'] } })).toEqual(['"enforce_admins" wasn\'t supplied.', '"required_pull_request_reviews" wasn\'t supplied.', '"restrictions" wasn\'t supplied.']);
    expect(protectionBodyProblems({ required_status_checks: { contexts: ['x'] }, enforce_admins: null, required_pull_request_reviews: null, restrictions: null })).toEqual(['"strict" wasn\'t supplied.']);
  });

  it('answers such a PUT 422 and keeps no protection', async () => {
    const { github, client } = await setUp();
    await expect(client.request('PUT', client.repoPath('/branches/main/protection'), { required_status_checks: { strict: true, contexts: ['x'] } })).rejects.toThrow(/-> 422: .*enforce_admins/);
    expect(github.protections.size).toBe(0);
  });
});
