import { stringField } from './http.ts';

export const usernameRule = {
  pattern: /^[\p{L}\p{N}][\p{L}\p{N}._@+-]*$/u,
  max: 64,
  describe: 'a username of 1-64 letters, digits and . _ @ + -, starting with a letter or digit',
};

export const displayNameRule = { pattern: /^[^\p{Cc}]+$/u, max: 100, describe: 'a display name of 1-100 characters, no control characters' };

export const recoveryCodeRule = { max: 64, describe: 'one of your recovery codes, shaped xxxxx-xxxxx-xxxxx-xxxxx' };

export const usernameField = (body: Record<string, unknown>): string => stringField(body, 'username', usernameRule);
