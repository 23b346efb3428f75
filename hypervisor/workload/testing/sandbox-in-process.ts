import { createLogger } from '../../log.ts';
import { startSandbox, type RunningSandbox } from '../server.ts';
import { parseSettings } from '../settings.ts';
import { removeDataDir, tempDataDir } from './sandbox-process.ts';

/**
 * The sandbox's server started inside the test process (startSandbox on 127.0.0.1, port 0, its own
 * data directory), so `vitest related` ties a test to the hub, the routes and the conductor it drives;
 * the child-process tests (sandbox-process.ts) cover the same code only as a separate process.
 */
export interface InProcessSandbox extends RunningSandbox {
  dataDir: string;
  /** Closes the sandbox (if a test has not already) and removes its data directory, given or not. */
  dispose(): Promise<void>;
}

/** `dataDir`: reuse a data directory (to start over the same state); a fresh temp dir otherwise. */
export async function startSandboxInProcess(env: Record<string, string> = {}, dataDir = tempDataDir()): Promise<InProcessSandbox> {
  const settings = parseSettings({ PORT: '0', CHOIROS_DATA_DIR: dataDir, SANDBOX_CONDUCTOR_STEP_MS: '0', ...env });
  const sandbox = await startSandbox(settings, createLogger('sandbox-test', { write: () => undefined }));
  return {
    ...sandbox,
    dataDir,
    async dispose() {
      await sandbox.close('the test ended');
      removeDataDir(dataDir);
    },
  };
}
