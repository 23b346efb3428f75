import { describe, expect, it } from 'vitest';
import { deploy } from './deploy.ts';
import { promote } from './promote.ts';
import { rollback } from './rollback.ts';
import { swap } from './swap.ts';
import { cliInProcess } from './testing/cli-in-process.ts';

const cli = cliInProcess('switch-commands-test-token');
const { stdout, stderr } = cli;

const release = { id: 4, runtime: 'podman', image_ref: 'localhost/choir-sandbox:0.2.0', status: 'serving' };
const deployed = { user_id: 'alice', role: 'dev', port: 40_001, duration_ms: 812.5, release };
const swapped = { user_id: 'alice', main: 'dev', dev: 'live', serving_after_ms: 2.5 };
const promoted = { ...swapped, release, known_good: false, known_good_error: 'it served no healthy check yet' };
const rolledBack = { ok: true, user_id: 'alice', main: 'live', release: { id: 3 }, mode: 'warm', serving_after_ms: 40, drained: true };

describe('deploy, swap and promote with --json print the admin answer itself, for scripts', () => {
  it.each([
    ['deploy', deploy, ['--user', 'alice', '--release', '4'], 'POST /admin/sandboxes/alice/deploy', deployed],
    ['swap', swap, ['--user', 'alice'], 'POST /admin/sandboxes/alice/swap', swapped],
    ['promote', promote, ['--user', 'alice'], 'POST /admin/sandboxes/alice/promote', promoted],
  ] as const)('%s', async (_name, command, args, request, answer) => {
    cli.api.answers.set(request, { body: answer });
    expect(await command.run([...args, '--json']), stderr.join('\n')).toBe(0);
    expect(JSON.parse(stdout.join('\n'))).toEqual(answer);
  });
});

describe('a switch run without --reason is recorded as coming from the CLI, by the cli actor', () => {
  it.each([
    ['swap', swap, 'POST /admin/sandboxes/alice/swap', swapped, 'swap from the CLI'],
    ['promote', promote, 'POST /admin/sandboxes/alice/promote', promoted, 'promote from the CLI'],
    ['rollback', rollback, 'POST /admin/sandboxes/alice/rollback', rolledBack, 'rollback from the CLI'],
  ] as const)('%s', async (_name, command, request, answer, reason) => {
    cli.api.answers.set(request, { body: answer });
    expect(await command.run(['--user', 'alice']), stderr.join('\n')).toBe(0);
    expect(cli.api.received.map((r) => r.request)).toEqual([request]);
    expect(cli.api.received[0]?.body).toMatchObject({ reason, actor: expect.stringMatching(/^cli:/) });
  });
});
