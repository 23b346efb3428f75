import { describe, expect, it } from 'vitest';
import { cliInProcess } from './testing/cli-in-process.ts';
import { rollback } from './rollback.ts';

const cli = cliInProcess('rollback-test-token');
const { stdout, stderr } = cli;

const rolled = (user: string, drained: boolean) => ({ ok: true, user_id: user, main: 'dev', release: { id: 3 }, mode: 'warm', serving_after_ms: 40, drained });

describe('npm run hypervisor -- rollback', () => {
  it('--user: one line naming the slot, release, mode and time, and says when the old target did not drain in time', async () => {
    cli.api.answers.set('POST /admin/sandboxes/alice/rollback', { status: 200, body: rolled('alice', false) });
    expect(await rollback.run(['--user', 'alice']), stderr.join('\n')).toBe(0);
    expect(stdout).toEqual(['rolled back alice: main -> dev slot, release 3 (warm), serving after 40 ms (old target did not drain in time)']);
  });

  it('--all: one line per user; none to roll back says so', async () => {
    cli.api.answers.set('POST /admin/rollback', { status: 200, body: { results: [rolled('alice', true), rolled('bob', true)] } });
    expect(await rollback.run(['--all'])).toBe(0);
    expect(stdout.join('\n')).toBe('rolled back alice: main -> dev slot, release 3 (warm), serving after 40 ms\nrolled back bob: main -> dev slot, release 3 (warm), serving after 40 ms');
    cli.api.answers.set('POST /admin/rollback', { status: 200, body: { results: [] } });
    stdout.length = 0;
    expect(await rollback.run(['--all'])).toBe(0);
    expect(stdout).toEqual(['no users to roll back']);
  });

  it('--all refused outright (not a 422 with every user): exit 1 with the reason, no user lines', async () => {
    cli.api.answers.set('POST /admin/rollback', { status: 409, body: { error: 'a rollback is already running' } });
    expect(await rollback.run(['--all'])).toBe(1);
    expect(stderr.join('\n')).toContain('a rollback is already running');
    expect(stdout).toEqual([]);
  });
});
