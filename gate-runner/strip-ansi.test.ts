import { describe, expect, it } from 'vitest';
import { stripAnsi } from './strip-ansi.ts';

describe('stripAnsi', () => {
  it('removes every colour and style code, combined ones included, and keeps the text', () => {
    const coloured = '\u001b[2mexpect(\u001b[22m\u001b[31mreceived\u001b[39m\u001b[2m).toBe(\u001b[22m\u001b[1;32mexpected\u001b[0m\u001b[m)';
    expect(stripAnsi(coloured)).toBe('expect(received).toBe(expected)');
    expect(stripAnsi('plain [31m text')).toBe('plain [31m text');
  });
});
