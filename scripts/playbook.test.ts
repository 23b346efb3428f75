import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePlaybook, readPlaybook, type PlaybookCommand } from '../fixtures/playbook.ts';
import { removeDir, startTestHypervisor, type TestHypervisor } from '../fixtures/test-hypervisor.ts';
import { routingAdmin, type ReleaseAnswer } from '../hypervisor/routing/testing/routing-admin.ts';

const playbook = readPlaybook();
const userId = 'playbook-user';
let target: TestHypervisor;
let knownGood: ReleaseAnswer;
let current: ReleaseAnswer;

/** Runs a playbook block as an operator would paste it into bash, with only the playbook's variables set. */
function run(command: Pick<PlaybookCommand, 'script'>, extra: Record<string, string> = {}) {
  return execa('bash', ['--norc', '--noprofile', '-euo', 'pipefail', '-c', command.script], {
    stdin: 'ignore',
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', CHOIROS_URL: target.url, CHOIROS_ADMIN_TOKEN: target.token, CHOIROS_USER: userId, ...extra },
    extendEnv: false,
    reject: false,
    all: true,
    timeout: 120_000,
  });
}

const block = (name: string): PlaybookCommand => {
  const found = playbook.find((command) => command.name === name);
  if (!found) throw new Error(`docs/operations-playbook.md has no block "${name}"`);
  return found;
};

beforeAll(async () => {
  target = await startTestHypervisor();
  const admin = routingAdmin(target.admin);
  knownGood = await admin.createRelease({ runtime: 'process', config: { SANDBOX_CONDUCTOR_STEP_MS: '10' }, note: 'playbook known-good' });
  current = await admin.createRelease({ runtime: 'process', config: { SANDBOX_CONDUCTOR_STEP_MS: '20' }, note: 'playbook current' });
  await admin.release(userId, knownGood.id);
  await admin.release(userId, current.id);
}, 120_000);

afterAll(async () => {
  await target?.close();
  if (target) removeDir(target.dir);
});

describe('the operations playbook (docs/operations-playbook.md), run against a local hypervisor', () => {
  it('lists health, logs, restart and rollback commands', () => {
    expect(playbook.map((command) => command.name)).toEqual(expect.arrayContaining(['health', 'logs', 'restart', 'rollback']));
  });

  it('health answers healthy', async () => {
    const result = await run(block('health'));
    expect(result.exitCode, result.all).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ status: 'healthy' });
  });

  it('sandboxes, metrics, pointers and restart-sandbox work with the admin token', async () => {
    for (const name of ['sandboxes', 'metrics', 'pointers', 'restart-sandbox']) {
      const result = await run(block(name));
      expect(result.exitCode, `${name}: ${result.all}`).toBe(0);
    }
    expect(JSON.parse((await run(block('sandboxes'))).stdout)).toEqual(expect.arrayContaining([expect.objectContaining({ user_id: userId, role: 'live' })]));
  });

  it('rollback serves the previous known-good release again', async () => {
    const result = await run(block('rollback'));
    expect(result.exitCode, result.all).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ user_id: userId, release: { id: knownGood.id } });
  }, 120_000);

  it('gate-users lists and delete-user removes a user', async () => {
    expect(JSON.parse((await run(block('gate-users'))).stdout)).toEqual({ users: [] });
    const deleted = await run(block('delete-user'));
    expect(deleted.exitCode, deleted.all).toBe(0);
    expect(JSON.parse(deleted.stdout)).toMatchObject({ user_id: userId, sandboxes_removed: ['live', 'dev'] });
  }, 120_000);

  it('host commands (logs, restart) are valid bash naming the unit; they run on the deployed host in Phase 5', async () => {
    const host = playbook.filter((command) => command.where === 'host');
    expect(host.map((command) => command.name).sort()).toEqual(['logs', 'restart']);
    for (const command of host) {
      expect(command.script).toContain('${CHOIROS_UNIT:-choiros-hypervisor}');
      const syntax = await execa('bash', ['-n', '-c', command.script], { reject: false, all: true });
      expect(syntax.exitCode, `${command.name}: ${syntax.all}`).toBe(0);
    }
  });

  it('a command that no longer matches the hypervisor fails (so the checks above can fail)', async () => {
    const stale = await run({ script: block('health').script.replace('/health', '/healthz') });
    expect(stale.exitCode).not.toBe(0);
    expect(() => parsePlaybook('```sh playbook=Health where=anywhere\ncurl x\n```\n', 'broken.md')).toThrow(/broken\.md:1: a playbook block opens with/);
  });
});
