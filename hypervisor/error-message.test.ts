import { describe, expect, it } from 'vitest';
import { errorMessage } from './error-message.ts';

describe('what a caught value says', () => {
  it("an Error's message, without its name", () => {
    expect(errorMessage(new TypeError('the port is taken'))).toBe('the port is taken');
  });

  it('anything else as text', () => {
    expect(errorMessage('podman is gone')).toBe('podman is gone');
    expect(errorMessage(42)).toBe('42');
    expect(errorMessage(undefined)).toBe('undefined');
  });
});
