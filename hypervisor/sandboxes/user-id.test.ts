import { describe, expect, it } from 'vitest';
import { InvalidUserIdError, parseUserId, userIdPattern } from './user-id.ts';

describe('user ids', () => {
  // The id names a container (choiros-sandbox-<user>-<role>) and a data directory: 63 characters is the limit.
  it('take lowercase letters, digits, "_" and "-", starting with a letter or digit, up to 63 characters', () => {
    for (const userId of ['a', '0', 'alice', 'u_1-x', 'a'.repeat(63), `9${'-'.repeat(62)}`]) expect(parseUserId(userId), userId).toBe(userId);
  });

  it('refuse anything else, naming the id and the rule', () => {
    for (const userId of ['', 'a'.repeat(64), '-alice', '_alice', 'Alice', 'al.ice', 'a/b', '..', 'a b', 'alice\n', 'ålice']) {
      expect(userIdPattern.test(userId), JSON.stringify(userId)).toBe(false);
      expect(() => parseUserId(userId), JSON.stringify(userId)).toThrow(InvalidUserIdError);
    }
    expect(() => parseUserId('Bob')).toThrow('user id "Bob" is invalid: use lowercase letters, digits, "_" and "-", starting with a letter or digit, at most 63 characters');
  });
});
