import { EventEmitter } from 'node:events';
import type { SandboxesConfig } from '../config.ts';
import type { Logger } from '../log.ts';
import type { Database } from '../store/database.ts';
import { sandboxDataDir } from './data-dir.ts';
import { assertSandboxConfig } from './env.ts';
import { SandboxNotFoundError, SandboxStartError, SandboxUnavailableError } from './errors.ts';
import { NotReadyError, waitUntilHealthy } from './health-probe.ts';
import { reportSandboxes, sandboxRestarts, sandboxStartSeconds, sandboxStopSeconds } from './metrics.ts';
import { PodmanRuntime } from './podman-runtime.ts';
import { allocatePort, isPortFree } from './ports.ts';
import { ProcessRuntime } from './process-runtime.ts';
import { reconcile } from './reconcile.ts';
import { crashesInARowAfter, restartDelayMs } from './restart-policy.ts';
import type { FoundInstance, RuntimeInstance, SandboxRuntime } from './runtime.ts';
import { statusOf, type DesiredState, type SandboxState } from './state.ts';
import { SandboxStore, type SandboxPatch, type SandboxRecord } from './store.ts';
import { transitionLevel, type SandboxTransition, type TransitionEvent } from './transitions.ts';
import { parseRole, runtimeKinds, sandboxId, type Role, type RuntimeKind, type SandboxKey, type SandboxSpec, type SandboxStatus } from './types.ts';
import { parseUserId } from './user-id.ts';

/** What the manager reports about one sandbox. */
export interface SandboxInfo {
  userId: string;
  role: Role;
  port: number;
  status: SandboxStatus;
  state: SandboxState;
  desired: DesiredState;
  idleSecs: number;
  spec: SandboxSpec;
  containerId: string | null;
  pid: number | null;
  restarts: number;
  lastError: string | null;
  dataDir: string;
}

export interface SandboxManagerOptions {
  db: Database;
  config: SandboxesConfig;
  log: Logger;
  /** Replaces the built-in runtimes (tests). */
  runtimes?: Partial<Record<RuntimeKind, SandboxRuntime>>;
}

interface Entry {
  key: SandboxKey;
  record: SandboxRecord;
  instance: RuntimeInstance | undefined;
  lastActivity: number;
  runningSince: number | undefined;
  crashesInARow: number;
  backoffTimer: NodeJS.Timeout | undefined;
}

const logTailLines = 20;

const sameSpec = (a: SandboxSpec, b: SandboxSpec): boolean =>
  a.runtime === b.runtime && a.image === b.image && JSON.stringify(a.config ?? {}) === JSON.stringify(b.config ?? {});

/**
 * The control plane's core: per (user, role) one sandbox, started, health-gated, watched, restarted
 * after crashes with backoff, stopped when idle, recorded in SQLite and reconciled with what really
 * runs when the hypervisor starts. Operations on one sandbox run one at a time, so there are never
 * two for one (user, role).
 */
export class SandboxManager extends EventEmitter<{ transition: [SandboxTransition] }> {
  readonly config: SandboxesConfig;
  private readonly store: SandboxStore;
  private readonly log: Logger;
  private readonly entries = new Map<string, Entry>();
  private readonly runtimes = new Map<RuntimeKind, Promise<SandboxRuntime>>();
  private readonly runtimeOverrides: Partial<Record<RuntimeKind, SandboxRuntime>>;
  private readonly locks = new Map<string, Promise<unknown>>();
  private readonly starting = new Map<string, { spec: SandboxSpec | undefined; promise: Promise<SandboxInfo> }>();
  private readonly background = new Set<Promise<unknown>>();
  private idleTimer: NodeJS.Timeout | undefined;
  private unreport: (() => void) | undefined;
  private closed = false;

  constructor(options: SandboxManagerOptions) {
    super();
    this.config = options.config;
    this.log = options.log;
    this.runtimeOverrides = options.runtimes ?? {};
    this.store = new SandboxStore(options.db);
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
    for (const record of this.store.all()) this.entries.set(sandboxId(record), this.newEntry(record));
    await reconcile({
      records: () => [...this.entries.values()].map((entry) => entry.record),
      runtime: (kind) => this.runtime(kind),
      adopt: (record, runtime, found) => this.adopt(record, runtime, found),
      removeStray: (runtime, found, why) => this.removeStray(runtime, found, why),
      resume: (record) => this.resume(record),
      settle: (record) => this.settleRecord(record),
    }, this.config.runtime);
    this.unreport = reportSandboxes(() => [...this.entries.values()].map((entry) => ({ state: entry.record.state, role: entry.key.role })));
    if (this.config.idleTimeoutSecs > 0) {
      const every = Math.min(30_000, Math.max(250, (this.config.idleTimeoutSecs * 1000) / 4));
      this.idleTimer = setInterval(() => this.stopIdle(), every);
      this.idleTimer.unref();
    }
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
      return this.info(entry);
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

  /** For the proxy: the sandbox's port, starting it on demand. Throws SandboxUnavailableError if it cannot run. */
  async ensureRunning(key: SandboxKey): Promise<{ port: number }> {
    const port = this.runningPort(key);
    if (port !== undefined) return { port };
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
    return [...this.entries.values()].sort((a, b) => sandboxId(a.key).localeCompare(sandboxId(b.key))).map((entry) => this.info(entry));
  }

  get(key: SandboxKey): SandboxInfo | undefined {
    const entry = this.entries.get(sandboxId(key));
    return entry ? this.info(entry) : undefined;
  }

  counts(): Record<SandboxStatus, number> {
    const counts = { running: 0, stopped: 0, failed: 0 };
    for (const entry of this.entries.values()) counts[statusOf(entry.record.state)] += 1;
    return counts;
  }

  /** Resolves once every operation in flight (including restarts begun by reconcile) has finished. */
  async settled(): Promise<void> {
    while (this.locks.size || this.background.size) {
      await Promise.allSettled([...this.locks.values(), ...this.background]);
    }
  }

  /**
   * Stops watching. Sandboxes keep running as recorded (the next start adopts them) unless
   * stopSandboxes is set (tests and benchmarks clean up this way).
   */
  async close(options: { stopSandboxes?: boolean } = {}): Promise<void> {
    clearInterval(this.idleTimer);
    for (const entry of this.entries.values()) clearTimeout(entry.backoffTimer);
    if (options.stopSandboxes) {
      await this.settled();
      await Promise.all([...this.entries.values()].map((entry) => this.exclusive(entry.key, () => this.stopNow(entry, 'shutdown', 'stopped'))));
    }
    this.closed = true;
    this.unreport?.();
    for (const runtime of this.runtimes.values()) await runtime.then((r) => r.close(), () => undefined);
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
    let runtime = this.runtimes.get(kind);
    if (!runtime) {
      const created =
        this.runtimeOverrides[kind] ??
        (kind === 'podman'
          ? new PodmanRuntime({ binary: this.config.podmanBinary, instanceId: this.config.instanceId, stopTimeoutSecs: this.config.stopTimeoutSecs, log: this.log })
          : new ProcessRuntime({ dataRoot: this.config.dataRoot, log: this.log }));
      runtime = created.check().then(() => created);
      this.runtimes.set(kind, runtime);
      runtime.catch(() => this.runtimes.delete(kind));
    }
    return runtime;
  }

  /** Runs `work` after every earlier operation on the same sandbox has finished. */
  private exclusive<T>(key: SandboxKey, work: () => Promise<T>): Promise<T> {
    const id = sandboxId(key);
    const run = (this.locks.get(id) ?? Promise.resolve()).then(work, work);
    const tail = run.then(
      () => undefined,
      () => undefined,
    );
    this.locks.set(id, tail);
    void tail.then(() => {
      if (this.locks.get(id) === tail) this.locks.delete(id);
    });
    return run;
  }

  private newEntry(record: SandboxRecord): Entry {
    return { key: { userId: record.userId, role: record.role }, record, instance: undefined, lastActivity: Date.now(), runningSince: undefined, crashesInARow: 0, backoffTimer: undefined };
  }

  private info(entry: Entry): SandboxInfo {
    const { record } = entry;
    return {
      userId: record.userId,
      role: record.role,
      port: record.port,
      status: statusOf(record.state),
      state: record.state,
      desired: record.desired,
      idleSecs: record.state === 'running' ? Math.floor((Date.now() - entry.lastActivity) / 1000) : 0,
      spec: record.spec,
      containerId: record.containerId,
      pid: record.pid,
      restarts: record.restarts,
      lastError: record.lastError,
      dataDir: sandboxDataDir(this.config.dataRoot, entry.key),
    };
  }

  /** Writes through to SQLite; after close() only memory changes (the database may be closed). */
  private persist(entry: Entry, patch: SandboxPatch): void {
    entry.record = { ...entry.record, ...patch };
    if (!this.closed) this.store.update(entry.key, patch);
  }

  private transition(entry: Entry, event: TransitionEvent, extra: Partial<SandboxTransition> = {}): void {
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
      return this.info(entry);
    }
    if (entry?.instance) await this.stopNow(entry, 'replaced', 'running');
    if (entry) clearTimeout(entry.backoffTimer);
    const port = await this.portFor(key, entry?.record.port);
    if (entry) {
      this.persist(entry, { port, desired: 'running', state: 'starting', spec: wanted, lastError: null });
    } else {
      const record = this.store.insert({ ...key, port, desired: 'running', state: 'starting', spec: wanted, containerId: null, pid: null, pidStart: null, restarts: 0, lastError: null });
      entry = this.newEntry(record);
      this.entries.set(id, entry);
    }
    entry.crashesInARow = 0;
    try {
      await this.launch(entry, reason);
    } catch (error) {
      this.fail(entry, error as Error);
      throw error;
    }
    return this.info(entry);
  }

  /** Launches the recorded spec and waits for healthy; on failure stops what it started and throws SandboxStartError. */
  private async launch(entry: Entry, reason: string): Promise<void> {
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
    void instance.exited.then((how) => this.exited(entry, instance, how));
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

  private fail(entry: Entry, error: Error): void {
    entry.instance = undefined;
    const message = error instanceof SandboxStartError ? error.message.split('\n--- ')[0] ?? error.message : error.message;
    this.persist(entry, { state: 'failed', lastError: message, pid: null, pidStart: null });
    this.transition(entry, 'sandbox.failed', { error: message, ...(error instanceof SandboxStartError && error.logTail ? { log_tail: error.logTail } : {}) });
  }

  /** Stops the sandbox (graceful, then forced); `desired` says whether it should run after a hypervisor restart. */
  private async stopNow(entry: Entry, reason: string, desired: DesiredState): Promise<void> {
    clearTimeout(entry.backoffTimer);
    entry.backoffTimer = undefined;
    const instance = entry.instance;
    if (!instance) {
      const state = entry.record.state === 'failed' && reason !== 'admin' ? 'failed' : 'stopped';
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

  /** The sandbox's process ended. Expected during stop and readiness (handled there); otherwise a crash. */
  private exited(entry: Entry, instance: RuntimeInstance, how: string): void {
    if (this.closed || entry.instance !== instance || entry.record.state !== 'running') return;
    entry.instance = undefined;
    const crashesInARow = crashesInARowAfter(entry.crashesInARow, entry.runningSince);
    entry.runningSince = undefined;
    this.transition(entry, 'sandbox.crash', { error: how, ...(instance.containerId ? { container_id: instance.containerId } : {}), ...(instance.pid ? { pid: instance.pid } : {}) });
    this.persist(entry, { pid: null, pidStart: null });
    this.scheduleRestart(entry, crashesInARow, how);
  }

  private scheduleRestart(entry: Entry, crashesInARow: number, why: string): void {
    entry.crashesInARow = crashesInARow;
    if (entry.crashesInARow > this.config.restartLimit) {
      const message = `crashed ${entry.crashesInARow} times in a row (restart limit ${this.config.restartLimit}); last: ${why}`;
      void this.track(
        (entry.instance ? Promise.resolve('') : this.runtime(entry.record.spec.runtime).then((r) => r.logTail(entry.key, undefined, logTailLines))).then(
          (tail) => this.fail(entry, new SandboxStartError(entry.key, message, tail)),
          () => this.fail(entry, new Error(message)),
        ),
      );
      return;
    }
    const delay = restartDelayMs(entry.crashesInARow, this.config.restartBackoffMs);
    this.persist(entry, { state: 'backoff' });
    entry.backoffTimer = setTimeout(() => {
      entry.backoffTimer = undefined;
      void this.track(this.exclusive(entry.key, () => this.restartAfterCrash(entry, delay)));
    }, delay);
    entry.backoffTimer.unref();
  }

  private async restartAfterCrash(entry: Entry, delayMs: number): Promise<void> {
    if (this.closed || entry.record.state !== 'backoff') return;
    this.persist(entry, { restarts: entry.record.restarts + 1 });
    sandboxRestarts.inc({ runtime: entry.record.spec.runtime, role: entry.key.role, reason: 'crash' });
    this.transition(entry, 'sandbox.restart', { reason: 'crash', attempt: entry.crashesInARow, delay_ms: delayMs });
    try {
      await this.launch(entry, 'crash');
    } catch (error) {
      if (this.closed) return;
      this.scheduleRestart(entry, entry.crashesInARow + 1, (error as Error).message.split('\n')[0] ?? 'did not become healthy');
    }
  }

  private stopIdle(): void {
    const limitMs = this.config.idleTimeoutSecs * 1000;
    for (const entry of this.entries.values()) {
      if (entry.record.state !== 'running' || Date.now() - entry.lastActivity < limitMs) continue;
      void this.track(
        this.exclusive(entry.key, async () => {
          if (entry.record.state === 'running' && Date.now() - entry.lastActivity >= limitMs) await this.stopNow(entry, 'idle', 'stopped');
        }),
      );
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

  private async adopt(record: SandboxRecord, runtime: SandboxRuntime, found: FoundInstance): Promise<boolean> {
    const entry = this.entries.get(sandboxId(record)) as Entry;
    const instance = runtime.attach(found);
    try {
      await waitUntilHealthy({ port: record.port, role: record.role, deadlineMs: Math.min(5_000, this.config.readyTimeoutMs), exited: instance.exited });
    } catch {
      return false;
    }
    entry.instance = instance;
    entry.runningSince = Date.now();
    entry.lastActivity = Date.now();
    this.persist(entry, { state: 'running', containerId: instance.containerId, pid: instance.pid, pidStart: instance.pidStart });
    void instance.exited.then((how) => this.exited(entry, instance, how));
    this.transition(entry, 'sandbox.adopt', { reason: 'reconcile' });
    return true;
  }

  private async removeStray(runtime: SandboxRuntime, found: FoundInstance, why: string): Promise<void> {
    await runtime.remove(found, this.config.stopTimeoutSecs);
    this.log.warn(
      {
        event: 'sandbox.stray_removed',
        user: found.key.userId,
        role: found.key.role,
        runtime: runtime.kind,
        ...(found.containerId ? { container_id: found.containerId } : {}),
        ...(found.pid ? { pid: found.pid } : {}),
        reason: why,
      },
      'sandbox.stray_removed',
    );
  }

  /** A sandbox that should run but does not: started again in the background. */
  private resume(record: SandboxRecord): void {
    const entry = this.entries.get(sandboxId(record)) as Entry;
    sandboxRestarts.inc({ runtime: record.spec.runtime, role: record.role, reason: 'reconcile' });
    this.persist(entry, { restarts: record.restarts + 1, state: 'stopped', containerId: record.containerId, pid: null, pidStart: null });
    this.transition(entry, 'sandbox.restart', { reason: 'reconcile' });
    void this.track(this.start(entry.key, undefined, 'reconcile'));
  }

  /** A sandbox that should not run and does not: its recorded state says so. */
  private settleRecord(record: SandboxRecord): void {
    const entry = this.entries.get(sandboxId(record)) as Entry;
    if (record.state !== 'stopped' && record.state !== 'failed') this.persist(entry, { state: 'stopped', pid: null, pidStart: null });
  }
}
