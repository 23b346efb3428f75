import type { SandboxEntry } from './entry.ts';

export interface IdleReaperDeps {
  idleTimeoutSecs: number;
  entries(): Iterable<SandboxEntry>;
  /** Stops the sandbox if it is still running and still idle when its turn comes (under its lock). */
  stopIfIdle(entry: SandboxEntry, limitMs: number): void;
}

/**
 * Stops sandboxes that have had no activity (proxied requests, WebSocket frames) for the idle
 * timeout. Checks a few times per timeout, at most every 30 s. Returns the function that stops it;
 * with a timeout of 0 there is nothing to stop.
 */
export function startIdleReaper(deps: IdleReaperDeps): () => void {
  if (deps.idleTimeoutSecs <= 0) return () => undefined;
  const limitMs = deps.idleTimeoutSecs * 1000;
  const every = Math.min(30_000, Math.max(250, limitMs / 4));
  const timer = setInterval(() => {
    for (const entry of deps.entries()) {
      if (entry.record.state === 'running' && Date.now() - entry.lastActivity >= limitMs) deps.stopIfIdle(entry, limitMs);
    }
  }, every);
  timer.unref();
  return () => clearInterval(timer);
}
