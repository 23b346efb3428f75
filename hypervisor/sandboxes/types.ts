/** The sandbox domain shared by the control plane, the proxy and routing. */
export const roles = ['live', 'dev'] as const;
export type Role = (typeof roles)[number];

export const runtimeKinds = ['process', 'podman'] as const;
export type RuntimeKind = (typeof runtimeKinds)[number];

/** What the admin API reports (the ChoirOS contract's three values). */
export type SandboxStatus = 'running' | 'stopped' | 'failed';

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

export class InvalidRoleError extends Error {
  /** What was given; the message is the contract's fixed wording, so the value travels here. */
  readonly role: string;
  constructor(role: string) {
    super("role must be 'live' or 'dev'");
    this.name = 'InvalidRoleError';
    this.role = role;
  }
}

export function parseRole(value: string): Role {
  if ((roles as readonly string[]).includes(value)) return value as Role;
  throw new InvalidRoleError(value);
}
