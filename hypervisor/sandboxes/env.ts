import { sandboxId, type SandboxKey } from '../domain/sandbox.ts';

/**
 * The sandbox's whole environment (ADR-0003): built from scratch, never from the hypervisor's own
 * environment, so no platform secret can reach a sandbox.
 */
export const contractEnvNames = ['PORT', 'DATABASE_URL', 'CHOIROS_DATA_DIR', 'CHOIR_SANDBOX_USER_ID', 'CHOIR_SANDBOX_ROLE', 'CHOIR_SANDBOX_ID'] as const;

/** Settings a release may carry in its config (hypervisor/workload/settings.ts reads them). */
export const releaseConfigNames = ['SANDBOX_CONDUCTOR_STEP_MS', 'SANDBOX_VERSION', 'SANDBOX_HEALTHY_ANSWERS', 'SANDBOX_RUNS_OK_ANSWERS', 'SANDBOX_CRASH_AFTER_HEALTHY_MS', 'SANDBOX_STOP_LISTENING_AFTER_HEALTHY_MS'] as const;

export type SandboxEnv = Readonly<Record<string, string>>;

export class SandboxConfigError extends Error {
  readonly variable: string;
  constructor(variable: string) {
    super(`sandbox config ${JSON.stringify(variable)} is not allowed: a release's config may only set ${releaseConfigNames.join(', ')}`);
    this.name = 'SandboxConfigError';
    this.variable = variable;
  }
}

/** Throws SandboxConfigError for the first name that is not on the release allowlist. */
export function assertSandboxConfig(config: Readonly<Record<string, string>> | undefined): void {
  for (const name of Object.keys(config ?? {})) {
    if (!(releaseConfigNames as readonly string[]).includes(name)) throw new SandboxConfigError(name);
  }
}

export interface SandboxEnvInput {
  key: SandboxKey;
  /** The port the sandbox listens on inside its runtime (8080 in a container, the host port for a process). */
  port: number;
  /** The data directory as the sandbox sees it (/data in a container). */
  dataDir: string;
  config?: Readonly<Record<string, string>>;
}

export function sandboxEnv(input: SandboxEnvInput): SandboxEnv {
  assertSandboxConfig(input.config);
  return {
    ...input.config,
    PORT: String(input.port),
    DATABASE_URL: `sqlite:${input.dataDir}/sandbox.db`,
    CHOIROS_DATA_DIR: input.dataDir,
    CHOIR_SANDBOX_USER_ID: input.key.userId,
    CHOIR_SANDBOX_ROLE: input.key.role,
    CHOIR_SANDBOX_ID: sandboxId(input.key),
  };
}
