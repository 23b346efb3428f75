import { HttpError } from '../http/errors.ts';

export const usernameRule = {
  pattern: /^[\p{L}\p{N}][\p{L}\p{N}._@+-]*$/u,
  max: 64,
  describe: 'a username of 1-64 letters, digits and . _ @ + -, starting with a letter or digit',
};

export const displayNameRule = { pattern: /^[^\p{Cc}]+$/u, max: 100, describe: 'a display name of 1-100 characters, no control characters' };

export const recoveryCodeRule = { max: 64, describe: 'one of your recovery codes, shaped xxxxx-xxxxx-xxxxx-xxxxx' };

export const usernameField = (body: Record<string, unknown>): string => stringField(body, 'username', usernameRule);

/** A required string field, trimmed; the error names the field and what it must look like. */
export function stringField(body: Record<string, unknown>, field: string, rule: { pattern?: RegExp; max: number; describe: string }): string {
  const value = body[field];
  if (value === undefined || value === null || value === '') throw new HttpError(400, `${field} is required: ${rule.describe}`);
  if (typeof value !== 'string') throw new HttpError(400, `${field} must be a string: ${rule.describe}`);
  const trimmed = value.trim();
  if (!trimmed || trimmed.length > rule.max || (rule.pattern && !rule.pattern.test(trimmed))) {
    throw new HttpError(400, `${field} is invalid: ${rule.describe}`);
  }
  return trimmed;
}

export function objectField(body: Record<string, unknown>, field: string, describe: string): Record<string, unknown> {
  const value = body[field];
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new HttpError(400, `${field} is required and must be an object: ${describe}`);
  }
  return value as Record<string, unknown>;
}
