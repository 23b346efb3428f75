import type { SandboxesConfig } from '../config.ts';
import type { KeyedLock } from '../keyed-lock.ts';
import { sandboxId } from '../domain/sandbox.ts';
import type { EntryWrites, SandboxEntry } from './entry.ts';
import { SandboxStartError } from './errors.ts';
import { sandboxRestarts } from './metrics.ts';
import { crashesInARowAfter, restartDelayMs } from './restart-policy.ts';
import type { RuntimeInstance } from './runtime.ts';

/** What the supervisor needs from the manager. */
export interface SupervisorDeps {
  config: Pick<SandboxesConfig, 'restartLimit' | 'restartBackoffMs'>;
  writes: EntryWrites;
  /** The manager's per-sandbox lock: a restart never overlaps another operation on the sandbox. */
  lock: KeyedLock;
  /** Launches the recorded spec and waits for healthy (throws SandboxStartError). */
  launch(entry: SandboxEntry, reason: string): Promise<void>;
  fail(entry: SandboxEntry, error: Error): void;
  logTail(entry: SandboxEntry): Promise<string>;
  /** Runs background work, logging its failure (the manager's settled() waits for it). */
  track(work: Promise<unknown>): void;
  closed(): boolean;
}

/**
 * Crash restarts: a sandbox whose process ends while it should run has crashed. It is restarted
 * after a backoff that grows with the crashes in a row, and marked failed past the restart limit.
 * A crash is a crash however it is restarted: a start that takes over a pending restart (the next
 * proxied request, an admin start) counts as that restart.
 */
export class CrashSupervisor {
  readonly #deps: SupervisorDeps;

  constructor(deps: SupervisorDeps) {
    this.#deps = deps;
  }

  /** Watches a launched or adopted instance for its end. */
  watch(entry: SandboxEntry, instance: RuntimeInstance): void {
    void instance.exited.then((how) => this.#exited(entry, instance, how));
  }

  /** Cancels a pending restart (the sandbox is being stopped or started some other way). */
  cancel(entry: SandboxEntry): void {
    clearTimeout(entry.backoffTimer);
    entry.backoffTimer = undefined;
  }

  /** Past the restart limit: only an explicit start (admin, release) runs it again, not requests. */
  gaveUp(entry: SandboxEntry): boolean {
    return entry.crashesInARow > this.#deps.config.restartLimit;
  }

  /** The message a sandbox past its restart limit is refused with. */
  gaveUpReason(entry: SandboxEntry): string {
    return `it crashed ${entry.crashesInARow} times in a row (restart limit ${this.#deps.config.restartLimit}): an admin restart starts it again`;
  }

  /**
   * A start of a sandbox that crashed and waits in backoff: it is the crash restart, so it counts as
   * one (restarts, choiros_sandbox_restarts_total{reason="crash"}, a sandbox.restart line).
   */
  takeOver(entry: SandboxEntry): void {
    this.cancel(entry);
    if (entry.record.state === 'backoff') this.#countRestart(entry);
  }

  #countRestart(entry: SandboxEntry, delayMs?: number): void {
    const { writes } = this.#deps;
    writes.persist(entry, { restarts: entry.record.restarts + 1 });
    sandboxRestarts.inc({ runtime: entry.record.spec.runtime, role: entry.key.role, reason: 'crash' });
    writes.transition(entry, 'sandbox.restart', { reason: 'crash', attempt: entry.crashesInARow, ...(delayMs !== undefined ? { delay_ms: delayMs } : {}) });
  }

  /** The sandbox's process ended. Expected during stop and readiness (handled there); otherwise a crash. */
  #exited(entry: SandboxEntry, instance: RuntimeInstance, how: string): void {
    if (this.#deps.closed() || entry.instance !== instance || entry.record.state !== 'running') return;
    entry.instance = undefined;
    const crashesInARow = crashesInARowAfter(entry.crashesInARow, entry.runningSince);
    entry.runningSince = undefined;
    this.#deps.writes.transition(entry, 'sandbox.crash', { error: how, ...(instance.containerId ? { container_id: instance.containerId } : {}), ...(instance.pid ? { pid: instance.pid } : {}) });
    this.#deps.writes.persist(entry, { pid: null, pidStart: null });
    this.#scheduleRestart(entry, crashesInARow, how);
  }

  #scheduleRestart(entry: SandboxEntry, crashesInARow: number, why: string): void {
    const { config, writes } = this.#deps;
    entry.crashesInARow = crashesInARow;
    if (this.gaveUp(entry)) {
      const message = `crashed ${entry.crashesInARow} times in a row (restart limit ${config.restartLimit}); last: ${why}`;
      this.#deps.track(
        (entry.instance ? Promise.resolve('') : this.#deps.logTail(entry)).then(
          (tail) => this.#deps.fail(entry, new SandboxStartError(entry.key, message, tail)),
          () => this.#deps.fail(entry, new Error(message)),
        ),
      );
      return;
    }
    const delay = restartDelayMs(entry.crashesInARow, config.restartBackoffMs);
    writes.persist(entry, { state: 'backoff' });
    entry.backoffTimer = setTimeout(() => {
      entry.backoffTimer = undefined;
      this.#deps.track(this.#deps.lock.run(sandboxId(entry.key), () => this.#restartAfterCrash(entry, delay)));
    }, delay);
    entry.backoffTimer.unref();
  }

  async #restartAfterCrash(entry: SandboxEntry, delayMs: number): Promise<void> {
    if (this.#deps.closed() || entry.record.state !== 'backoff') return;
    this.#countRestart(entry, delayMs);
    try {
      await this.#deps.launch(entry, 'crash');
    } catch (error) {
      if (this.#deps.closed()) return;
      const why = error instanceof SandboxStartError ? error.summary : (error as Error).message;
      this.#scheduleRestart(entry, entry.crashesInARow + 1, why.split('\n')[0] ?? 'did not become healthy');
    }
  }
}
