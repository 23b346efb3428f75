import { afterAll, afterEach, beforeAll, beforeEach, vi } from 'vitest';
import { startLoopbackAdminApi, type AdminAnswer, type LoopbackAdminApi, type ReceivedAdminRequest } from './loopback-admin-api.ts';

/** The operator CLI run in this process: the admin API it talks to, and what it printed in the current test. */
export interface CliInProcess {
  readonly api: LoopbackAdminApi;
  /** console.log lines, emptied before each test. */
  readonly stdout: string[];
  /** console.error lines, emptied before each test. */
  readonly stderr: string[];
}

/**
 * Registers the hooks for a test file that runs operator CLI commands in this process (so
 * `vitest related` finds the file from the command's source): a loopback admin API for the whole
 * file; before each test, HYPERVISOR_URL and HYPERVISOR_ADMIN_TOKEN pointing at it and the
 * console captured; after each, both undone.
 */
export function cliInProcess(token: string, fallback?: (request: ReceivedAdminRequest) => AdminAnswer): CliInProcess {
  let api: LoopbackAdminApi | undefined;
  const stdout: string[] = [];
  const stderr: string[] = [];
  beforeAll(async () => {
    api = await startLoopbackAdminApi(fallback);
  });
  afterAll(() => api?.close());
  beforeEach(() => {
    api?.reset();
    stdout.length = 0;
    stderr.length = 0;
    vi.stubEnv('HYPERVISOR_URL', api?.url ?? '');
    vi.stubEnv('HYPERVISOR_ADMIN_TOKEN', token);
    vi.spyOn(console, 'log').mockImplementation((line: unknown) => void stdout.push(String(line)));
    vi.spyOn(console, 'error').mockImplementation((line: unknown) => void stderr.push(String(line)));
  });
  afterEach(() => {
    vi.restoreAllMocks();
    vi.unstubAllEnvs();
  });
  return {
    get api() {
      if (!api) throw new Error('the loopback admin API is not started yet: use it inside a test');
      return api;
    },
    stdout,
    stderr,
  };
}
