import { describe, expect, it } from 'vitest';
import { generateRecoveryCode, normalizeRecoveryCode } from './recovery-codes.ts';

describe('recovery codes', () => {
  it('are four groups of five symbols with no look-alikes (no 0/o, no 1/l)', () => {
    const codes = Array.from({ length: 200 }, generateRecoveryCode);
    for (const code of codes) expect(code).toMatch(/^[a-km-np-z2-9]{5}(-[a-km-np-z2-9]{5}){3}$/);
    expect(new Set(codes).size).toBe(codes.length);
  });

  it('accept what people paste: any case, surrounding spaces, with or without the dashes; nothing of another length', () => {
    const code = 'abcde-fghij-kmnpq-rstuv';
    for (const pasted of [code, ` ${code.toUpperCase()} `, code.replaceAll('-', ''), 'ABCDE FGHIJ KMNPQ RSTUV']) expect(normalizeRecoveryCode(pasted), pasted).toBe(code);
    for (const wrong of ['abcde-fghij-kmnpq-rstu', 'abcde-fghij-kmnpq-rstuvw', 'abcde-fghij-kmnpq-rstu!', '']) expect(normalizeRecoveryCode(wrong), wrong).toBeNull();
  });
});
