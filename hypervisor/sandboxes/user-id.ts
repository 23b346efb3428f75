/**
 * User ids name a data directory (<data root>/<user>/<role>) and a container
 * (choiros-sandbox-<user>-<role>), so they are restricted to characters that can neither escape
 * the data root nor break a container name.
 */
export const userIdPattern = /^[a-z0-9][a-z0-9_-]{0,62}$/;

export const userIdRule = 'lowercase letters, digits, "_" and "-", starting with a letter or digit, at most 63 characters';

export class InvalidUserIdError extends Error {
  readonly userId: string;
  constructor(userId: string) {
    super(`user id ${JSON.stringify(userId)} is invalid: use ${userIdRule} (${userIdPattern.source})`);
    this.name = 'InvalidUserIdError';
    this.userId = userId;
  }
}

export function parseUserId(value: string): string {
  if (userIdPattern.test(value)) return value;
  throw new InvalidUserIdError(value);
}
