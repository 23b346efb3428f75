import { describe, expect, test } from 'vitest';
import { parseImageArgs } from './build.ts';

describe('npm run image arguments', () => {
  test('no --version builds the checkout version', () => {
    expect(parseImageArgs([])).toEqual({});
  });

  test('--version V names the version, letters, digits, ".", "_" and "-" up to 128 characters', () => {
    expect(parseImageArgs(['--version', '1.2.3-rc_1'])).toEqual({ version: '1.2.3-rc_1' });
    expect(parseImageArgs(['--version', 'A'.repeat(128)])).toEqual({ version: 'A'.repeat(128) });
  });

  test('a missing or invalid version is a usage error, not a build', () => {
    for (const argv of [['--version'], ['--version', ''], ['--version', '-x'], ['--version', '.1'], ['--version', '1/2'], ['--version', 'v 1'], ['--version', '1.0\n'], ['--version', 'A'.repeat(129)]]) {
      expect(parseImageArgs(argv), JSON.stringify(argv)).toBeUndefined();
    }
  });
});
