import { vi } from 'vitest';

/**
 * Points the operator CLI, run in this process, at `url` with `token`, and keeps what it prints:
 * console.log lines in `stdout`, console.error lines in `stderr`. Call it in beforeEach; an
 * afterEach undoes it with `vi.restoreAllMocks()` and `vi.unstubAllEnvs()`.
 */
export function captureCliOutput(url: string, token: string): { stdout: string[]; stderr: string[] } {
  const output = { stdout: [] as string[], stderr: [] as string[] };
  vi.stubEnv('HYPERVISOR_URL', url);
  vi.stubEnv('HYPERVISOR_ADMIN_TOKEN', token);
  vi.spyOn(console, 'log').mockImplementation((text: string) => void output.stdout.push(text));
  vi.spyOn(console, 'error').mockImplementation((text: string) => void output.stderr.push(text));
  return output;
}
