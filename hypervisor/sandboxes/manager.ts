import { EventEmitter } from 'node:events';
import type { SandboxesConfig } from '../config.ts';
import { parseRole } from '../domain/role.ts';
import { runtimeKinds, type RuntimeKind } from '../domain/runtime-kind.ts';
import { sandboxId, type SandboxKey, type SandboxSpec, type SandboxStatus } from '../domain/sandbox.ts';
import { KeyedLock } from '../keyed-lock.ts';
import type { Logger } from '../log.ts';
import type { Database } from '../store/database.ts';
import { canTransition, SandboxTransitionError } from './allowed-transitions.ts';
import { sandboxDataDir } from './data-dir.ts';
import { sandboxInfo, type SandboxInfo } from './info.ts';
import { newEntry, type EntryWrites, type SandboxEntry } from './entry.ts';
import { assertSandboxConfig } from './env.ts';
import { SandboxNotFoundError, SandboxStartError, SandboxUnavailableError } from './errors.ts';
import { NotReadyError, waitUntilHealthy } from './health-probe.ts';
import { startIdleReaper } from './idle-reaper.ts';
import { reportSandboxes, sandboxRestarts, sandboxStartSeconds, sandboxStopSeconds } from './metrics.ts';
import { allocatePort, isPortFree } from './ports.ts';
import { Runtimes } from './runtimes.ts';
import { reconcile } from './reconcile.ts';
import { reconcileSteps } from './reconcile-steps.ts';
import type { RuntimeInstance, SandboxRuntime } from './runtime.ts';
import { statusOf, type DesiredState, type SandboxState } from './state.ts';
import { SandboxStore, type SandboxPatch } from './store.ts';
import { CrashSupervisor } from './supervisor.ts';
import { transitionLevel, type SandboxTransition, type TransitionEvent } from './transitions.ts';
import { parseUserId } from './user-id.ts';

export interface SandboxManagerOptions {
  db: Database;
  config: SandboxesConfig;
  log: Logger;
  /** Replaces the built-in runtimes (tests). */
  runtimes?: Partial<Record<RuntimeKind, SandboxRuntime>>;
}

const logTailLines = 20;

const sameSpec = (a: SandboxSpec, b: SandboxSpec): boolean =>
  a.runtime === b.runtime && a.image === b.image && JSON.stringify(a.config ?? {}) === JSON.stringify(b.config ?? {});

/**
 * The control plane's core: per (user, role) one sandbox, started, health-gated, stopped and
 * recorded in SQLite. Its parts: the CrashSupervisor (crash restarts with backoff, the restart
 * limit), the idle reaper, reconcile (what runs against what is recorded, at start-up) and one
 * KeyedLock so operations on one sandbox run one at a time, never two for one (user, role). Every
 * state change follows the allowed-transition table.
 */
export class SandboxManager extends EventEmitter<{ transition: [SandboxTransition] }> {
  readonly config: SandboxesConfig;
  private readonly store: SandboxStore;
  private readonly log: Logger;
  private readonly entries = new Map<string, SandboxEntry>();
  private readonly runtimes: Runtimes;
  private readonly lock = new KeyedLock();
  private readonly starting = new Map<string, { spec: SandboxSpec | undefined; promise: Promise<SandboxInfo> }>();
  private readonly background = new Set<Promise<unknown>>();
  private readonly writes: EntryWrites = {
    persist: (entry, patch) => this.persist(entry, patch),
    transition: (entry, event, extra) => this.transition(entry, event, extra),
  };
  private readonly supervisor: CrashSupervisor;
  private stopReaper: () => void = () => undefined;
  private unreport: (() => void) | undefined;
  private closed = false;

  constructor(options: SandboxManagerOptions) {
    super();
    this.config = options.config;
    this.log = options.log;
    this.runtimes = new Runtimes(options.config, options.log, options.runtimes);
    this.store = new SandboxStore(options.db);
    this.supervisor = new CrashSupervisor({
      config: this.config,
      writes: this.writes,
      lock: this.lock,
      launch: (entry, reason) => this.launch(entry, reason),
      fail: (entry, error) => this.fail(entry, error),
      logTail: (entry) => this.runtime(entry.record.spec.runtime).then((runtime) => runtime.logTail(entry.key, undefined, logTailLines)),
      track: (work) => void this.track(work),
      closed: () => this.closed,
    });
  }

  get defaultSpec(): SandboxSpec {
    return { runtime: this.config.runtime, image: this.config.image };
  }

  /**
   * Checks the configured runtime (in podman mode: podman itself), then reconciles the records with
   * what really runs: adopts, removes strays, restarts what should run (in the background).
   */
  async init(): Promise<void> {
    await this.runtime(this.config.runtime);
    for (const record of this.store.all()) this.entries.set(sandboxId(record), newEntry(record));
    await reconcile(
      reconcileSteps({
        config: this.config,
        log: this.log,
        entries: this.entries,
        runtime: (kind) => this.runtime(kind),
        writes: this.writes,
        correct: (entry, patch) => this.write(entry, patch),
        watch: (entry, instance) => this.supervisor.watch(entry, instance),
        startInBackground: (key, reason) => void this.track(this.start(key, undefined, reason)),
      }),
      this.config.runtime,
    );
    this.unreport = reportSandboxes(() => [...this.entries.values()].map((entry) => ({ state: entry.record.state, role: entry.key.role })));
    this.stopReaper = startIdleReaper({
      idleTimeoutSecs: this.config.idleTimeoutSecs,
      entries: () => this.entries.values(),
      stopIfIdle: (entry, limitMs) =>
        void this.track(
          this.exclusive(entry.key, async () => {
            if (entry.record.state === 'running' && Date.now() - entry.lastActivity >= limitMs) await this.stopNow(entry, 'idle', 'stopped');
          }),
        ),
    });
  }

  /** Starts the sandbox (with `spec`, else its recorded spec, else the configured default) and resolves once healthy. */
  start(key: SandboxKey, spec?: SandboxSpec, reason = 'admin'): Promise<SandboxInfo> {
    this.checkKey(key);
    if (spec) this.checkSpec(spec);
    const id = sandboxId(key);
    const pending = this.starting.get(id);
    if (pending && (spec === undefined || (pending.spec !== undefined && sameSpec(pending.spec, spec)))) return pending.promise;
    const promise = this.exclusive(key, () => this.startNow(key, spec, reason));
    this.starting.set(id, { spec, promise });
    const forget = (): void => {
      if (this.starting.get(id)?.promise === promise) this.starting.delete(id);
    };
    promise.then(forget, forget);
    return promise;
  }

  stop(key: SandboxKey, reason = 'admin'): Promise<SandboxInfo> {
    this.checkKey(key);
    return this.exclusive(key, async () => {
      const entry = this.entries.get(sandboxId(key));
      if (!entry) throw new SandboxNotFoundError(key);
      await this.stopNow(entry, reason, 'stopped');
      return sandboxInfo(entry, this.config.dataRoot);
    });
  }

  restart(key: SandboxKey): Promise<SandboxInfo> {
    this.checkKey(key);
    return this.exclusive(key, async () => {
      const entry = this.entries.get(sandboxId(key));
      if (!entry) return this.startNow(key, undefined, 'admin');
      this.transition(entry, 'sandbox.restart', { reason: 'admin' });
      sandboxRestarts.inc({ runtime: entry.record.spec.runtime, role: key.role, reason: 'admin' });
      this.persist(entry, { restarts: entry.record.restarts + 1 });
      await this.stopNow(entry, 'restart', 'running');
      return this.startNow(key, undefined, 'restart');
    });
  }

  /** Stops the sandbox and forgets its record (its user is being deleted); false when there was none. */
  remove(key: SandboxKey, reason = 'deleted'): Promise<boolean> {
    this.checkKey(key);
    return this.exclusive(key, async () => {
      const entry = this.entries.get(sandboxId(key));
      if (!entry) return false;
      await this.stopNow(entry, reason, 'stopped');
      this.entries.delete(sandboxId(key));
      this.store.delete(key);
      return true;
    });
  }

  /** For the proxy's fast path: the port of a running sandbox (counting as activity), else undefined. */
  runningPort(key: SandboxKey): number | undefined {
    const entry = this.entries.get(sandboxId(key));
    if (entry?.record.state !== 'running' || !entry.instance) return undefined;
    entry.lastActivity = Date.now();
    return entry.record.port;
  }

  /**
   * For the proxy: the sandbox's port, starting it on demand. Throws SandboxUnavailableError if it
   * cannot run, or if it crashed past its restart limit (requests do not restart it; an admin does).
   */
  async ensureRunning(key: SandboxKey): Promise<{ port: number }> {
    const port = this.runningPort(key);
    if (port !== undefined) return { port };
    const entry = this.entries.get(sandboxId(key));
    if (entry && this.supervisor.gaveUp(entry)) throw new SandboxUnavailableError(key, this.supervisor.gaveUpReason(entry));
    try {
      const info = await this.start(key, undefined, 'on_demand');
      return { port: info.port };
    } catch (error) {
      throw new SandboxUnavailableError(key, (error as Error).message);
    }
  }

  /** Activity (a proxied request): resets the idle timer. */
  touch(key: SandboxKey): void {
    const entry = this.entries.get(sandboxId(key));
    if (entry) entry.lastActivity = Date.now();
  }

  list(): SandboxInfo[] {
    return [...this.entries.values()].sort((a, b) => sandboxId(a.key).localeCompare(sandboxId(b.key))).map((entry) => sandboxInfo(entry, this.config.dataRoot));
  }

  get(key: SandboxKey): SandboxInfo | undefined {
    const entry = this.entries.get(sandboxId(key));
    return entry ? sandboxInfo(entry, this.config.dataRoot) : undefined;
  }

  counts(): Record<SandboxStatus, number> {
    const counts = { running: 0, stopped: 0, failed: 0 };
    for (const entry of this.entries.values()) counts[statusOf(entry.record.state)] += 1;
    return counts;
  }

  /** Resolves once every operation in flight (including restarts begun by reconcile) has finished. */
  async settled(): Promise<void> {
    for (;;) {
      const pending = [...this.lock.pending(), ...this.background];
      if (!pending.length) return;
      await Promise.allSettled(pending);
    }
  }

  /**
   * Stops watching. Sandboxes keep running as recorded (the next start adopts them) unless
   * stopSandboxes is set (tests and benchmarks clean up this way).
   */
  async close(options: { stopSandboxes?: boolean } = {}): Promise<void> {
    this.stopReaper();
    for (const entry of this.entries.values()) this.supervisor.cancel(entry);
    if (options.stopSandboxes) {
      await this.settled();
      await Promise.all([...this.entries.values()].map((entry) => this.exclusive(entry.key, () => this.stopNow(entry, 'shutdown', 'stopped'))));
    }
    this.closed = true;
    this.unreport?.();
    await this.runtimes.close();
  }

  private checkKey(key: SandboxKey): void {
    parseUserId(key.userId);
    parseRole(key.role);
  }

  private checkSpec(spec: SandboxSpec): void {
    if (!(runtimeKinds as readonly string[]).includes(spec.runtime)) throw new Error(`sandbox runtime ${JSON.stringify(spec.runtime)} is unknown: use ${runtimeKinds.join(' or ')}`);
    assertSandboxConfig(spec.config);
  }

  /** The runtime of that kind, created and checked once (podman is only touched when it is used). */
  private runtime(kind: RuntimeKind): Promise<SandboxRuntime> {
    return this.runtimes.get(kind);
  }

  /** Runs `work` after every earlier operation on the same sandbox has finished. */
  private exclusive<T>(key: SandboxKey, work: () => Promise<T>): Promise<T> {
    return this.lock.run(sandboxId(key), work);
  }

  /** A lifecycle change: the new state must be one the allowed-transition table permits. */
  private persist(entry: SandboxEntry, patch: SandboxPatch): void {
    if (patch.state !== undefined && !canTransition(entry.record.state, patch.state)) throw new SandboxTransitionError(sandboxId(entry.key), entry.record.state, patch.state);
    this.write(entry, patch);
  }

  /** Writes through to SQLite; after close() only memory changes (the database may be closed). */
  private write(entry: SandboxEntry, patch: SandboxPatch): void {
    entry.record = { ...entry.record, ...patch };
    if (!this.closed) this.store.update(entry.key, patch);
  }

  private transition(entry: SandboxEntry, event: TransitionEvent, extra: Partial<SandboxTransition> = {}): void {
    const { record } = entry;
    const transition: SandboxTransition = {
      event,
      user: record.userId,
      role: record.role,
      runtime: record.spec.runtime,
      port: record.port,
      ...(record.containerId ? { container_id: record.containerId } : {}),
      ...(record.pid ? { pid: record.pid } : {}),
      ...extra,
    };
    this.log[transitionLevel(event)](transition, event);
    this.emit('transition', transition);
  }

  /** The recorded port when it is still free, else a new one (recorded at once, under the UNIQUE constraint). */
  private async portFor(key: SandboxKey, recorded: number | undefined): Promise<number> {
    if (recorded !== undefined && (await isPortFree(recorded))) return recorded;
    for (;;) {
      const port = await allocatePort(this.store.reservedPorts());
      // No await between this check and the caller's write: two starts never record one port.
      if (!this.store.reservedPorts().has(port)) return port;
    }
  }

  private async startNow(key: SandboxKey, spec: SandboxSpec | undefined, reason: string): Promise<SandboxInfo> {
    const id = sandboxId(key);
    let entry = this.entries.get(id);
    const wanted = spec ?? entry?.record.spec ?? this.defaultSpec;
    if (entry && entry.record.state === 'running' && entry.instance && sameSpec(entry.record.spec, wanted)) {
      entry.lastActivity = Date.now();
      return sandboxInfo(entry, this.config.dataRoot);
    }
    if (entry?.instance) await this.stopNow(entry, 'replaced', 'running');
    // A start of a crashed sandbox waiting in backoff is its crash restart, counted as one.
    if (entry) this.supervisor.takeOver(entry);
    const port = await this.portFor(key, entry?.record.port);
    if (entry) {
      this.persist(entry, { port, desired: 'running', state: 'starting', spec: wanted, lastError: null });
    } else {
      const record = this.store.insert({ ...key, port, desired: 'running', state: 'starting', spec: wanted, containerId: null, pid: null, pidStart: null, restarts: 0, lastError: null });
      entry = newEntry(record);
      this.entries.set(id, entry);
    }
    // Requests keep the crash count (a sandbox that keeps crashing while in use reaches the limit);
    // an explicit start (admin, release, reconcile) begins afresh.
    if (reason !== 'on_demand') entry.crashesInARow = 0;
    try {
      await this.launch(entry, reason);
    } catch (error) {
      this.fail(entry, error as Error);
      throw error;
    }
    return sandboxInfo(entry, this.config.dataRoot);
  }

  /** Launches the recorded spec and waits for healthy; on failure stops what it started and throws SandboxStartError. */
  private async launch(entry: SandboxEntry, reason: string): Promise<void> {
    const { key } = entry;
    const spec = entry.record.spec;
    const started = performance.now();
    const previousContainerId = entry.record.containerId;
    this.persist(entry, { state: 'starting', containerId: null, pid: null, pidStart: null });
    this.transition(entry, 'sandbox.start_requested', { reason, ...(spec.runtime === 'podman' ? { image: spec.image } : {}) });
    const runtime = await this.runtime(spec.runtime);
    let instance: RuntimeInstance;
    try {
      instance = await runtime.launch({ key, spec, hostPort: entry.record.port, dataDir: sandboxDataDir(this.config.dataRoot, key), previousContainerId });
    } catch (error) {
      sandboxStartSeconds.observe({ runtime: spec.runtime, role: key.role, outcome: 'failed' }, (performance.now() - started) / 1000);
      throw new SandboxStartError(key, (error as Error).message, '');
    }
    entry.instance = instance;
    this.persist(entry, { containerId: instance.containerId, pid: instance.pid, pidStart: instance.pidStart });
    this.supervisor.watch(entry, instance);
    try {
      await waitUntilHealthy({ port: entry.record.port, role: key.role, deadlineMs: this.config.readyTimeoutMs, exited: instance.exited });
    } catch (error) {
      const tail = await runtime.logTail(key, instance, logTailLines);
      entry.instance = undefined;
      await runtime.stop(instance, this.config.stopTimeoutSecs).catch(() => undefined);
      sandboxStartSeconds.observe({ runtime: spec.runtime, role: key.role, outcome: 'failed' }, (performance.now() - started) / 1000);
      throw new SandboxStartError(key, error instanceof NotReadyError ? error.message : String(error), tail);
    }
    const now = Date.now();
    entry.lastActivity = now;
    entry.runningSince = now;
    this.persist(entry, { state: 'running' });
    const durationMs = Math.round(performance.now() - started);
    sandboxStartSeconds.observe({ runtime: spec.runtime, role: key.role, outcome: 'ready' }, durationMs / 1000);
    this.transition(entry, 'sandbox.ready', { duration_ms: durationMs, reason });
  }

  private fail(entry: SandboxEntry, error: Error): void {
    entry.instance = undefined;
    const message = error instanceof SandboxStartError ? error.summary : error.message;
    this.persist(entry, { state: 'failed', lastError: message, pid: null, pidStart: null });
    this.transition(entry, 'sandbox.failed', { error: message, ...(error instanceof SandboxStartError && error.logTail ? { log_tail: error.logTail } : {}) });
  }

  /** Stops the sandbox (graceful, then forced); `desired` says whether it should run after a hypervisor restart. */
  private async stopNow(entry: SandboxEntry, reason: string, desired: DesiredState): Promise<void> {
    this.supervisor.cancel(entry);
    // A deliberate stop ends a run of crashes: the next start, even on demand, begins afresh.
    entry.crashesInARow = 0;
    const instance = entry.instance;
    if (!instance) {
      const state: SandboxState = entry.record.state === 'failed' && reason !== 'admin' ? 'failed' : 'stopped';
      this.persist(entry, { desired, state });
      return;
    }
    const started = performance.now();
    this.persist(entry, { desired, state: 'stopping' });
    const runtime = await this.runtime(instance.runtime);
    try {
      await runtime.stop(instance, this.config.stopTimeoutSecs);
    } finally {
      entry.instance = undefined;
      entry.runningSince = undefined;
      const durationMs = Math.round(performance.now() - started);
      this.persist(entry, { state: 'stopped', pid: null, pidStart: null });
      sandboxStopSeconds.observe({ runtime: instance.runtime, role: entry.key.role }, durationMs / 1000);
      this.transition(entry, 'sandbox.stop', { duration_ms: durationMs, reason, ...(instance.containerId ? { container_id: instance.containerId } : {}), ...(instance.pid ? { pid: instance.pid } : {}) });
    }
  }

  private track<T>(work: Promise<T>): Promise<T | undefined> {
    const tracked = work.then(
      (value) => value,
      (error: unknown) => {
        this.log.error({ event: 'sandbox.background_error', error: (error as Error).message }, 'sandbox background operation failed');
        return undefined;
      },
    );
    this.background.add(tracked);
    void tracked.then(() => this.background.delete(tracked));
    return tracked;
  }
}
