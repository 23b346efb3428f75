import { afterEach, describe, expect, it, vi } from 'vitest';
import { runCli } from './dispatch.ts';

// In process, unlike the operator tests (which run the CLI as an operator would): this also puts
// every command's file in the import graph, so `vitest related` on a command (the unseen-defect
// measure's unit half) finds the tests that run it.
describe('the operator CLI dispatch', () => {
  afterEach(() => {
    vi.restoreAllMocks();
    vi.unstubAllEnvs();
  });

  it('help lists every command with its one-line summary', async () => {
    const printed: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((text: string) => void printed.push(text));
    expect(await runCli(['help'])).toBe(0);
    const listed = [...printed.join('\n').matchAll(/^ {2}(\S+) +(\S.*)$/gm)].map((m) => m[1]);
    expect(listed).toEqual(['serve', 'swap', 'releases', 'deploy', 'promote', 'rollback', 'pointers']);
  });

  it('refuses an unknown command with exit 2, naming it and showing the usage', async () => {
    const printed: string[] = [];
    vi.spyOn(console, 'error').mockImplementation((text: string) => void printed.push(text));
    expect(await runCli(['rollbak'])).toBe(2);
    expect(printed.join('\n')).toContain('unknown command "rollbak"');
    expect(printed.join('\n')).toContain('rollback');
  });

  it.each([['--help'], ['-h']])('%s is help too: exit 0 with the usage on stdout', async (flag) => {
    const printed: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((text: string) => void printed.push(text));
    expect(await runCli([flag])).toBe(0);
    expect(printed.join('\n')).toMatch(/^usage: node hypervisor\/main\.ts \[command\]/);
  });

  it('without a command it serves (here refused for an invalid setting: exit 2, naming it)', async () => {
    const printed: string[] = [];
    vi.spyOn(console, 'error').mockImplementation((text: string) => void printed.push(text));
    vi.spyOn(console, 'log').mockImplementation((text: string) => void printed.push(text));
    // Invalid, so serve stops before it listens or touches a sandbox.
    vi.stubEnv('HYPERVISOR_DATABASE_URL', 'postgres://db/hypervisor');
    expect(await runCli([])).toBe(2);
    expect(printed.join('\n')).toContain('hypervisor: invalid configuration: HYPERVISOR_DATABASE_URL="postgres://db/hypervisor"');
  });
});
