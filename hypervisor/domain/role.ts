/** The two sandboxes each user has: `live` (what main serves) and `dev`. */
export const roles = ['live', 'dev'] as const;
export type Role = (typeof roles)[number];

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
