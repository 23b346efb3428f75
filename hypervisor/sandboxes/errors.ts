import { sandboxId, type SandboxKey } from '../domain/sandbox.ts';

/** A start that did not reach healthy; carries why (`reason`) and the tail of the sandbox's own output. */
export class SandboxStartError extends Error {
  readonly key: SandboxKey;
  /** Why it did not start, without the log tail (what the record's lastError keeps). */
  readonly reason: string;
  readonly logTail: string;
  constructor(key: SandboxKey, reason: string, logTail: string) {
    super(`sandbox ${sandboxId(key)} did not start: ${reason}${logTail ? `\n--- last lines of its log ---\n${logTail}` : ''}`);
    this.name = 'SandboxStartError';
    this.key = key;
    this.reason = reason;
    this.logTail = logTail;
  }

  /** The message without the log tail. */
  get summary(): string {
    return `sandbox ${sandboxId(this.key)} did not start: ${this.reason}`;
  }
}

/** For the proxy: the sandbox cannot serve now (the proxy answers 503 with Retry-After). */
export class SandboxUnavailableError extends Error {
  readonly key: SandboxKey;
  readonly retryAfterSecs: number;
  constructor(key: SandboxKey, reason: string, retryAfterSecs = 5) {
    super(`sandbox ${sandboxId(key)} is unavailable: ${reason}`);
    this.name = 'SandboxUnavailableError';
    this.key = key;
    this.retryAfterSecs = retryAfterSecs;
  }
}

export class SandboxNotFoundError extends Error {
  readonly key: SandboxKey;
  constructor(key: SandboxKey) {
    super(`there is no sandbox ${sandboxId(key)}: start it first`);
    this.name = 'SandboxNotFoundError';
    this.key = key;
  }
}
