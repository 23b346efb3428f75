import { describe, expect, it } from 'vitest';
import { SandboxNotFoundError, SandboxStartError, SandboxUnavailableError } from './errors.ts';

const key = { userId: 'ann', role: 'dev' } as const;

describe("the sandbox errors a person reads", () => {
  it('a failed start names the sandbox and why; its summary (the recorded lastError) leaves out the log tail the message carries', () => {
    const error = new SandboxStartError(key, 'exit code 1', 'boom\nlast line');
    expect(error.message).toBe('sandbox ann:dev did not start: exit code 1\n--- last lines of its log ---\nboom\nlast line');
    expect(error.summary).toBe('sandbox ann:dev did not start: exit code 1');
    expect(new SandboxStartError(key, 'exit code 1', '').message, 'no tail, no tail heading').toBe(error.summary);
  });

  it('an unavailable sandbox names itself and asks to retry after whole seconds, 5 unless told', () => {
    const error = new SandboxUnavailableError(key, 'it crashed');
    expect(error.message).toBe('sandbox ann:dev is unavailable: it crashed');
    expect(error.retryAfterSecs).toBe(5);
    expect(new SandboxUnavailableError(key, 'busy', 2).retryAfterSecs).toBe(2);
  });

  it('an unknown sandbox says to start it first', () => {
    expect(new SandboxNotFoundError(key).message).toBe('there is no sandbox ann:dev: start it first');
  });
});
