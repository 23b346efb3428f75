import { describe, expect, it } from 'vitest';
import { HttpError } from '../http/errors.ts';
import { displayNameRule, recoveryCodeRule, stringField, usernameField, usernameRule } from './fields.ts';

/** What a field check answers: the trimmed value, or the status and message of its refusal. */
function answer(check: () => string): string | { status: number; message: string } {
  try {
    return check();
  } catch (error) {
    if (error instanceof HttpError) return { status: error.status, message: error.message };
    throw error;
  }
}

const username = (value: unknown) => answer(() => usernameField({ username: value }));

describe('sign-in fields', () => {
  it('takes every username its own rule describes: 1-64 letters and digits of any script, and . _ @ + - after the first', () => {
    for (const name of ['ada', 'ada@example.org', 'a.b_c+d-e', 'Zoë', '名前', '7up', 'a'.repeat(64)]) expect(username(name), name).toBe(name);
    expect(username('  ada@example.org ')).toBe('ada@example.org');
    // The limit counts the username, not the spaces a form pasted around it.
    expect(username(` ${'a'.repeat(64)}  `)).toBe('a'.repeat(64));
  });

  it('refuses any other username with 400 naming the field and the rule', () => {
    const refused = { status: 400, message: `username is invalid: ${usernameRule.describe}` };
    for (const name of ['.ada', '@ada', '-ada', '_ada', 'ada lovelace', 'ada/..', 'ada<script>', 'a'.repeat(65), '   ']) expect(username(name), name).toEqual(refused);
    // Missing, null and empty are all "required" (a form posts an empty field as ""; a script may send null).
    for (const value of [undefined, null, '']) expect(username(value), String(value)).toEqual({ status: 400, message: `username is required: ${usernameRule.describe}` });
    expect(username(42)).toEqual({ status: 400, message: `username must be a string: ${usernameRule.describe}` });
  });

  it('takes a display name of up to 100 characters without control characters', () => {
    const displayName = (value: string) => answer(() => stringField({ displayName: value }, 'displayName', displayNameRule));
    expect(displayName('Ada Lovelace (she/her) ✨')).toBe('Ada Lovelace (she/her) ✨');
    expect(displayName('x'.repeat(100))).toBe('x'.repeat(100));
    for (const value of ['x'.repeat(101), 'Ada\u0000', 'Ada\nLovelace']) expect(displayName(value), JSON.stringify(value)).toEqual({ status: 400, message: `displayName is invalid: ${displayNameRule.describe}` });
  });

  it('takes a recovery code as people paste it, spaces around the dashes included, up to 64 characters', () => {
    const code = (value: string) => answer(() => stringField({ code: value }, 'code', recoveryCodeRule));
    expect(code(' ABCDE - FGHJK - MNPQR - STUVW ')).toBe('ABCDE - FGHJK - MNPQR - STUVW');
    expect(code('x'.repeat(64))).toBe('x'.repeat(64));
    expect(code('x'.repeat(65))).toEqual({ status: 400, message: `code is invalid: ${recoveryCodeRule.describe}` });
  });
});
