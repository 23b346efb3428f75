import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { hypervisorEnv, removeDir, runHypervisorToExit, spawnHypervisor } from '../fixtures/test-hypervisor.ts';
import { fromRoot } from './paths.ts';

const dirs: string[] = [];

afterAll(() => {
  for (const dir of dirs) removeDir(dir);
});

function envWith(overrides: Record<string, string>): Record<string, string> {
  const { dir, env } = hypervisorEnv(overrides);
  dirs.push(dir);
  return env;
}

describe('node hypervisor/main.ts', () => {
  it.each([
    ['HYPERVISOR_PORT', 'ninety'],
    ['SANDBOX_RUNTIME', 'kubernetes'],
    ['SANDBOX_IDLE_TIMEOUT_SECS', 'soon'],
    ['HYPERVISOR_DATABASE_URL', 'mysql://db'],
    ['WEBAUTHN_RP_ORIGIN', 'ftp://example.com'],
  ])('refuses a bad %s=%s with exit 2 and one message naming the variable, the value and what is accepted', async (variable, value) => {
    const result = await runHypervisorToExit(envWith({ [variable]: value }));
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(new RegExp(`^hypervisor: invalid configuration: ${variable}="${value.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}" is invalid: .+`));
    expect(result.stdout).toContain('"event":"hypervisor.config_error"');
  });

  it('names the token file when HYPERVISOR_ADMIN_TOKEN_FILE cannot be read', async () => {
    const env = envWith({ HYPERVISOR_ADMIN_TOKEN_FILE: '/nonexistent/admin-token' });
    delete env.HYPERVISOR_ADMIN_TOKEN;
    const result = await runHypervisorToExit(env);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/HYPERVISOR_ADMIN_TOKEN_FILE="\/nonexistent\/admin-token" is invalid: the file cannot be read \(ENOENT\)/);
  });

  it('an unknown command exits 2 with the usage; help exits 0', () => {
    const unknown = spawnSync(process.execPath, [fromRoot('hypervisor', 'main.ts'), 'frobnicate'], { encoding: 'utf8' });
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/unknown command "frobnicate"[\s\S]*serve/);
    const help = spawnSync(process.execPath, [fromRoot('hypervisor', 'main.ts'), 'help'], { encoding: 'utf8' });
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/usage: node hypervisor\/main.ts/);
  });

  it('logs where a generated admin token is kept, never the token', async () => {
    const env = envWith({ HYPERVISOR_PORT: '0' });
    delete env.HYPERVISOR_ADMIN_TOKEN;
    const child = await spawnHypervisor(env);
    try {
      const line = child.logs.find((entry) => entry.event === 'hypervisor.admin_token');
      expect(line).toMatchObject({ source: 'generated', file: expect.stringMatching(/admin-token$/) });
      const token = readFileSync(line?.file as string, 'utf8').trim();
      expect(JSON.stringify(child.logs)).not.toContain(token);
    } finally {
      child.child.kill('SIGTERM');
      expect(await child.exited).toBe(0);
    }
  });
});

/**
 * main.ts imported in this process (process.exit held, its argv given), so `vitest related` finds
 * these tests from main.ts: the tests above run it in a child process, which it does not follow.
 */
async function runMain(...args: string[]): Promise<{ exitCodes: unknown[]; printed: string[] }> {
  const exitCodes: unknown[] = [];
  const printed: string[] = [];
  // A main that served by mistake stops at its configuration instead of listening on 9090.
  vi.stubEnv('HYPERVISOR_DATABASE_URL', 'mysql://db');
  vi.spyOn(process, 'exit').mockImplementation(((code?: number) => void exitCodes.push(code)) as typeof process.exit);
  vi.spyOn(console, 'log').mockImplementation((text: string) => void printed.push(text));
  vi.spyOn(console, 'error').mockImplementation((text: string) => void printed.push(text));
  vi.spyOn(process, 'argv', 'get').mockReturnValue([process.execPath, fromRoot('hypervisor', 'main.ts'), ...args]);
  vi.resetModules();
  await import('./main.ts');
  return { exitCodes, printed };
}

describe('node hypervisor/main.ts ARGS runs the command ARGS name and exits with its code', () => {
  afterEach(() => {
    vi.restoreAllMocks();
    vi.unstubAllEnvs();
  });

  it('help: 0, the usage', async () => {
    const { exitCodes, printed } = await runMain('help');
    expect(exitCodes).toEqual([0]);
    expect(printed.join('\n')).toMatch(/^usage: node hypervisor\/main\.ts/);
  });

  it('an unknown command: 2, naming it', async () => {
    const { exitCodes, printed } = await runMain('rollbak', '--all');
    expect(exitCodes).toEqual([2]);
    expect(printed.join('\n')).toContain('unknown command "rollbak"');
  });
});
