import { describe, expect, it } from 'vitest';
import { userInfo } from 'node:os';
import { cliInProcess } from '../cli/testing/cli-in-process.ts';
import { commandFlags, runAdminCommand, UsageError } from './cli-support.ts';

const token = 'cli-support-test-token';
// A loopback admin API: swaps are refused (409), everything else answers 200.
const cli = cliInProcess(token, (request) =>
  request.url.endsWith('/swap') ? { status: 409, body: { error: 'the dev slot runs no release: deploy one first' } } : { body: { releases: [], retained: [] } },
);
const { stdout, stderr } = cli;

describe('a CLI admin command', () => {
  it('exits 0 printing the summary, or the JSON answer with --json, after calling the admin API with the token from the environment', async () => {
    const work = async (admin: Parameters<Parameters<typeof runAdminCommand>[0]>[0]) => {
      const answer = await admin.releases();
      return { summary: `${answer.releases.length} releases`, json: answer };
    };
    expect(await runAdminCommand(work, false)).toBe(0);
    expect(stdout).toEqual(['0 releases']);
    expect(await runAdminCommand(work, true)).toBe(0);
    expect(JSON.parse(stdout[1] ?? '')).toEqual({ releases: [], retained: [] });
    expect(stderr).toEqual([]);
    expect(cli.api.received.map((request) => request.authorization)).toEqual([`Bearer ${token}`, `Bearer ${token}`]);
  });

  it("exits 1 with the hypervisor's reason on stderr and nothing on stdout when the call is refused, and records the cli actor", async () => {
    expect(await runAdminCommand(async (admin) => ({ summary: 'swapped', json: await admin.swap('alice', 'try it') }), false)).toBe(1);
    expect(stdout).toEqual([]);
    expect(stderr).toEqual(['hypervisor: POST /admin/sandboxes/alice/swap answered 409: the dev slot runs no release: deploy one first']);
    expect(cli.api.received[0]?.body).toMatchObject({ reason: 'try it', actor: `cli:${userInfo().username}` });
  });

  it('exits 1 for an answered partial failure: its summary on stderr, its JSON still on stdout with --json', async () => {
    const work = async () => ({ summary: 'bob FAILED: health check failed', json: { results: [{ user_id: 'bob', ok: false }] }, failed: true });
    expect(await runAdminCommand(work, false)).toBe(1);
    expect(stdout).toEqual([]);
    expect(stderr).toEqual(['hypervisor: bob FAILED: health check failed']);
    expect(await runAdminCommand(work, true)).toBe(1);
    expect(JSON.parse(stdout[0] ?? '')).toEqual({ results: [{ user_id: 'bob', ok: false }] });
  });

  it('exits 2 for a usage error found while running', async () => {
    expect(
      await runAdminCommand(async () => {
        throw new UsageError('--history must be a whole number\nusage: pointers --user USER [--history N]');
      }, false),
    ).toBe(2);
    expect(stderr.join('\n')).toContain('--history must be a whole number');
  });
});

describe("a CLI command's flags", () => {
  const options = { user: { type: 'string' }, release: { type: 'string' }, all: { type: 'boolean' } } as const;
  const usage = 'rollback --user USER [--release ID] | --all';

  it('are returned when valid, --json included', () => {
    expect(commandFlags(['--user', 'alice', '--release', '3', '--json'], options, usage, ['user'])).toEqual({ user: 'alice', release: '3', json: true });
  });

  it('missing a required flag exit 2 naming every missing one and showing the usage', () => {
    expect(commandFlags(['--all'], options, usage, ['user'])).toBe(2);
    expect(stderr.join('\n')).toContain('--user is required');
    expect(stderr.join('\n')).toContain(`usage: ${usage}`);
    expect(commandFlags([], options, usage, ['user', 'release'])).toBe(2);
    expect(stderr.join('\n')).toContain('--user and --release are required');
  });

  it('given an empty required value (an unset shell variable) exit 2 naming the flag', () => {
    expect(commandFlags(['--user', '', '--release', '3'], options, usage, ['user', 'release'])).toBe(2);
    expect(stderr.join('\n')).toContain('--user is empty: give a value');
    expect(commandFlags(['--user', ' ', '--release', ''], options, usage, ['user', 'release'])).toBe(2);
    expect(stderr.join('\n')).toContain('--user and --release are empty: give a value');
  });

  it('with an unknown flag, a stray word or a conflict exit 2', () => {
    expect(commandFlags(['--user', 'alice', '--colour', 'red'], options, usage)).toBe(2);
    expect(stderr.join('\n')).toContain('--colour');
    expect(commandFlags(['--user', 'alice', 'now'], options, usage)).toBe(2);
    const conflict = (flags: { user?: string; all?: boolean }) => (flags.user && flags.all ? '--user and --all exclude each other' : undefined);
    expect(commandFlags(['--user', 'alice', '--all'], options, usage, [], conflict)).toBe(2);
    expect(stderr.join('\n')).toContain('--user and --all exclude each other');
  });
});
