import type { SandboxesConfig } from '../config.ts';
import type { RuntimeKind } from '../domain/runtime-kind.ts';
import type { Logger } from '../log.ts';
import { PodmanRuntime } from './podman-runtime.ts';
import { ProcessRuntime } from './process-runtime.ts';
import type { SandboxRuntime } from './runtime.ts';

/** The manager's runtimes, one per kind, each created and checked once, when first used (podman is only touched when it is used). */
export class Runtimes {
  readonly #byKind = new Map<RuntimeKind, Promise<SandboxRuntime>>();
  readonly #config: SandboxesConfig;
  readonly #log: Logger;
  readonly #overrides: Partial<Record<RuntimeKind, SandboxRuntime>>;

  /** `overrides` replace the built-in runtimes (tests). */
  constructor(config: SandboxesConfig, log: Logger, overrides: Partial<Record<RuntimeKind, SandboxRuntime>> = {}) {
    this.#config = config;
    this.#log = log;
    this.#overrides = overrides;
  }

  /** The checked runtime of that kind; a failed check is not kept, so the next call checks again. */
  get(kind: RuntimeKind): Promise<SandboxRuntime> {
    let runtime = this.#byKind.get(kind);
    if (!runtime) {
      const created =
        this.#overrides[kind] ??
        (kind === 'podman'
          ? new PodmanRuntime({ binary: this.#config.podmanBinary, instanceId: this.#config.instanceId, stopTimeoutSecs: this.#config.stopTimeoutSecs, log: this.#log })
          : new ProcessRuntime({ dataRoot: this.#config.dataRoot, log: this.#log }));
      runtime = created.check().then(() => created);
      this.#byKind.set(kind, runtime);
      runtime.catch(() => this.#byKind.delete(kind));
    }
    return runtime;
  }

  async close(): Promise<void> {
    for (const runtime of this.#byKind.values()) await runtime.then((r) => r.close(), () => undefined);
  }
}
