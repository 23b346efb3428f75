import { createLogger } from '../log.ts';
import { checkDataDirs, DataDirError } from './data-dir.ts';
import { assertKeyless, KeylessViolationError } from './keyless.ts';
import { ConfigError } from '../env-values.ts';
import { parseSettings, type SandboxSettings } from './settings.ts';
import { startSandbox, type RunningSandbox } from './server.ts';

/**
 * `node hypervisor/workload/main.ts` (and the image's entrypoint): the same env contract as a
 * process or a container. A bad setting, a keyless violation or an unwritable data directory
 * exits 78 (EX_CONFIG) with a message naming the variable; any other start failure exits 1.
 */
const log = createLogger('sandbox');
const exitConfigError = 78;

function refusalDetail(error: Error): { event: string; variables?: readonly string[] } {
  if (error instanceof KeylessViolationError) return { event: 'sandbox.keyless_violation', variables: error.variables };
  if (error instanceof ConfigError) return { event: 'sandbox.invalid_setting', variables: [error.variable] };
  return { event: 'sandbox.data_dir_unwritable' };
}

function settingsOrExit(): SandboxSettings {
  try {
    assertKeyless(process.env);
    const settings = parseSettings(process.env);
    checkDataDirs(settings);
    return settings;
  } catch (error) {
    if (!(error instanceof KeylessViolationError || error instanceof ConfigError || error instanceof DataDirError)) throw error;
    log.fatal(refusalDetail(error), error.message);
    console.error(`choiros-sandbox: ${error.message}`);
    process.exit(exitConfigError);
  }
}

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

const settings = settingsOrExit();
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
