import { createLogger } from '../log.ts';
import { fromRoot } from '../paths.ts';
import { refusedStartExitCode, settingsOrRefusal } from './start-refusal.ts';
import { startSandbox, type RunningSandbox } from './server.ts';

/**
 * The script that runs `runSandboxMain` (the image's entrypoint too). Tests that start the sandbox
 * as a child process take its path from here, so `vitest related` on this file finds them.
 */
export const sandboxMainScript = fromRoot('hypervisor', 'workload', 'main.ts');

/**
 * The sandbox process: the same env contract as a process or a container. A bad setting, a keyless
 * violation or an unwritable data directory exits 78 (EX_CONFIG) with a message naming the
 * variable; any other start failure exits 1; SIGTERM or SIGINT stops it with 0.
 */
export async function runSandboxMain(env: NodeJS.ProcessEnv): Promise<void> {
  const log = createLogger('sandbox');

  // PID 1 in the container: without these handlers SIGTERM is ignored and `podman stop` waits for
  // SIGKILL. Installed before anything else, so that a stop right after start is quick too.
  /** Set once listening; a signal before that has nothing to close. */
  const current: { sandbox?: RunningSandbox } = {};
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      const started = performance.now();
      log.info({ event: 'sandbox.stopping', signal }, 'stopping');
      const sandbox = current.sandbox;
      if (!sandbox) {
        log.info({ event: 'sandbox.stopped', signal, before_listening: true, ms: 0 }, 'stopped before it was listening');
        process.exit(0);
      }
      // Runs are recorded synchronously as close() begins; the timer only bounds socket teardown
      // (a WebSocket client that never answers the close handshake).
      const deadline = setTimeout(() => {
        log.warn({ event: 'sandbox.stopped', signal, forced: true, ms: Math.round(performance.now() - started) }, 'stopped before every socket closed');
        process.exit(0);
      }, 500);
      void sandbox.close(`the sandbox was stopped (${signal}) before the run finished`).then(() => {
        clearTimeout(deadline);
        log.info({ event: 'sandbox.stopped', signal, ms: Math.round(performance.now() - started) }, 'stopped');
        process.exit(0);
      });
    });
  }

  const chosen = settingsOrRefusal(env);
  if ('refusal' in chosen) {
    const { event, variables, message } = chosen.refusal;
    log.fatal({ event, ...(variables ? { variables } : {}) }, message);
    console.error(`choiros-sandbox: ${message}`);
    process.exit(refusedStartExitCode);
  }
  const { settings } = chosen;
  let running: RunningSandbox;
  try {
    running = await startSandbox(settings, log);
  } catch (error) {
    log.fatal({ event: 'sandbox.start_failed', err: error, port: settings.port, host: settings.host }, `sandbox could not start: ${(error as Error).message}`);
    process.exit(1);
  }
  current.sandbox = running;
  log.info(
    { event: 'sandbox.listening', url: running.url, port: running.port, role: settings.role, version: settings.version, sandbox_id: settings.sandboxId, data_dir: settings.dataDir },
    'sandbox listening',
  );
}
