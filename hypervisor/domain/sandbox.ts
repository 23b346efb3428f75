import type { Role } from './role.ts';
import type { RuntimeKind } from './runtime-kind.ts';

/** What the admin API reports (the ChoirOS contract's three values). */
export type SandboxStatus = 'running' | 'stopped' | 'failed';

/** One sandbox: per (user, role). */
export interface SandboxKey {
  userId: string;
  role: Role;
}

/**
 * What a sandbox runs. Per sandbox, not global: a release (route swap and rollback) pins a runtime
 * and an image, so one user's live may run on podman while dev runs as a process.
 */
export interface SandboxSpec {
  runtime: RuntimeKind;
  /** Image reference for podman (for example localhost/choir-sandbox:0.1.0); ignored by the process runtime. */
  image: string;
  /** Extra sandbox settings from a release's config; only names on the sandbox env allowlist pass. */
  config?: Readonly<Record<string, string>>;
}

export const sandboxId = (key: SandboxKey): string => `${key.userId}:${key.role}`;
