import { afterEach, describe, expect, it, vi } from 'vitest';
import { attachCommand } from './attach-command.ts';

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
