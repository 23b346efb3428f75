import type { Logger } from '../log.ts';
import type { SandboxKey, SandboxSpec, SandboxStatus } from '../domain/sandbox.ts';
import type { HealthGate } from './health-gate.ts';
import type { Releases } from './releases.ts';
import type { RoutePointers } from './route-pointers.ts';
import type { SlotReleases } from './slot-releases.ts';
import type { SwitchHistory } from './switch-history.ts';
import type { KeyedLock } from '../keyed-lock.ts';

/** What routing needs from the sandbox manager. */
export interface SlotControl {
  /** Starts the slot on `spec` (replacing whatever it ran); resolves once the manager sees it ready. */
  start(key: SandboxKey, spec: SandboxSpec): Promise<{ port: number }>;
  /** Starts the slot on its recorded spec unless it runs; resolves to its port. */
  ensureRunning(key: SandboxKey): Promise<{ port: number }>;
  stop(key: SandboxKey): Promise<void>;
  /** What the slot is doing now and what it runs; undefined when the manager never heard of it. */
  status(key: SandboxKey): { status: SandboxStatus; port: number | null; spec: SandboxSpec } | undefined;
  /** Every user the manager has a sandbox for. */
  users(): string[];
}

/** What routing needs from the proxy, by sandbox id (`<user>:<role>`). */
export interface TrafficControl {
  /** Resolves true once no request is in flight to the sandbox, false at the timeout. */
  drained(sandboxId: string, timeoutMs: number): Promise<boolean>;
  /** Closes every relayed WebSocket to the sandbox with `code`; resolves to how many. */
  closeWebSockets(sandboxId: string, code: number, reason: string): number;
}

export interface RoutingOptions {
  /** How long a new target has to answer healthy before a switch or deploy is refused. */
  healthDeadlineMs: number;
  /** How long a switch waits for requests in flight on the old target. */
  drainTimeoutMs: number;
  /** Known-good releases whose images are kept runnable (HYPERVISOR_KNOWN_GOOD_RETAIN). */
  knownGoodRetain: number;
  /** Images prune never removes, whatever the releases say (the configured default image). */
  protectedImages: readonly string[];
}

export const defaultRoutingOptions: RoutingOptions = {
  healthDeadlineMs: 20_000,
  drainTimeoutMs: 10_000,
  knownGoodRetain: 5,
  protectedImages: [],
};

/** Everything a routing operation works with: the stores, the parts it drives, and a logger. */
export interface RoutingContext {
  pointers: RoutePointers;
  releases: Releases;
  slotReleases: SlotReleases;
  history: SwitchHistory;
  slots: SlotControl;
  traffic: TrafficControl;
  healthGate: HealthGate;
  /** Keyed by user id: one routing operation per user at a time. */
  lock: KeyedLock;
  logger: Logger;
  options: RoutingOptions;
}

/** The close code for WebSockets on a switched target: 1012 "service restart", so clients reconnect. */
export const switchCloseCode = 1012;
