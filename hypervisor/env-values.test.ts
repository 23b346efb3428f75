import { describe, expect, it } from 'vitest';
import { ConfigError, readChoice, readInteger, readString, type Env } from './env-values.ts';

function refusal(read: () => unknown): ConfigError {
  try {
    read();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('the value was accepted');
}

describe('settings read from the environment', () => {
  it('an unset or blank variable is undefined; a set one is trimmed', () => {
    const env: Env = { BLANK: '  ', EMPTY: '', SET: ' value ' };
    expect([readString(env, 'UNSET'), readString(env, 'BLANK'), readString(env, 'EMPTY'), readString(env, 'SET')]).toEqual([undefined, undefined, undefined, 'value']);
  });

  it('a whole number within its bounds, both included; unset or blank takes the default', () => {
    expect(readInteger({}, 'N', 7, 1, 10)).toBe(7);
    expect(readInteger({ N: ' ' }, 'N', 7, 1, 10)).toBe(7);
    expect([readInteger({ N: '1' }, 'N', 7, 1, 10), readInteger({ N: '10' }, 'N', 7, 1, 10), readInteger({ N: ' 3 ' }, 'N', 7, 1, 10)]).toEqual([1, 10, 3]);
  });

  it.each(['0', '11', '-1', '1.5', '1e1', '0x5', '5s', 'five', '99999999999999999999'])('refuses %j as a whole number from 1 to 10, naming the variable, the value, the range and the default', (value) => {
    const error = refusal(() => readInteger({ N: value }, 'N', 7, 1, 10));
    expect(error).toMatchObject({ name: 'ConfigError', variable: 'N', message: `N="${value}" is invalid: use a whole number from 1 to 10 (default 7)` });
  });

  it('a choice is one of its values, exactly; unset takes the default', () => {
    const choices = ['off', 'on'] as const;
    expect(readChoice({}, 'C', choices, 'off')).toBe('off');
    expect(readChoice({ C: ' on ' }, 'C', choices, 'off')).toBe('on');
    expect(refusal(() => readChoice({ C: 'ON' }, 'C', choices, 'off'))).toMatchObject({ variable: 'C', message: 'C="ON" is invalid: use one of off, on (default off)' });
  });
});
