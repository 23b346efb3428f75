import type { RuntimeKind } from '../domain/runtime-kind.ts';
import type { SandboxKey, SandboxSpec } from '../domain/sandbox.ts';

/** What a runtime needs to run one sandbox. */
export interface LaunchRequest {
  key: SandboxKey;
  spec: SandboxSpec;
  /** The loopback port on the host where the sandbox answers. */
  hostPort: number;
  /** The sandbox's data directory on the host (<data root>/<user>/<role>). */
  dataDir: string;
  /** The container this sandbox ran in last time, removed first (podman keeps stopped containers). */
  previousContainerId: string | null;
}

/** A sandbox that a runtime started or re-attached to. */
export interface RuntimeInstance {
  runtime: RuntimeKind;
  containerId: string | null;
  pid: number | null;
  pidStart: string | null;
  /** Settles once the sandbox's process has ended, with how it ended (for example "exit code 1"). */
  exited: Promise<string>;
}

/** A sandbox that exists right now and belongs to this hypervisor instance (found during reconcile). */
export interface FoundInstance {
  key: SandboxKey;
  running: boolean;
  containerId: string | null;
  pid: number | null;
  pidStart: string | null;
  image: string | null;
}

/**
 * One interface, two runtimes (podman containers and direct child processes). A runtime only runs
 * and observes sandboxes; what should run, restarts and readiness belong to the manager.
 */
export interface SandboxRuntime {
  readonly kind: RuntimeKind;
  /** Fails with a clear error when the runtime cannot work on this host (for example podman missing). */
  check(): Promise<void>;
  launch(request: LaunchRequest): Promise<RuntimeInstance>;
  /** Graceful stop (SIGTERM), then forced after timeoutSecs. Resolves once the sandbox is gone. */
  stop(instance: RuntimeInstance, timeoutSecs: number): Promise<void>;
  /** Every sandbox of this hypervisor instance that exists now, running or not. */
  find(): Promise<FoundInstance[]>;
  /** Re-attaches to a running sandbox found by find(), so its exit is noticed. */
  attach(found: FoundInstance): RuntimeInstance;
  /** Removes a sandbox that should not exist (a stray): stops it if needed and deletes what is left. */
  remove(found: FoundInstance, timeoutSecs: number): Promise<void>;
  /** The last lines the sandbox printed, for errors. */
  logTail(key: SandboxKey, instance: RuntimeInstance | undefined, lines: number): Promise<string>;
  /** Stops observing (watchers, timers); never stops sandboxes. */
  close(): Promise<void>;
}
