/**
 * Crash restarts: exponential backoff (base, 2x base, 4x base ... capped), a limit on crashes in a
 * row, and a window after which a sandbox counts as stable again (its next crash starts afresh).
 */
export const stableAfterMs = 60_000;
export const maxBackoffMs = 30_000;

export function restartDelayMs(crashesInARow: number, baseMs: number): number {
  return Math.min(maxBackoffMs, baseMs * 2 ** (Math.max(1, crashesInARow) - 1));
}

export function crashesInARowAfter(previous: number, runningSinceMs: number | undefined, now = Date.now()): number {
  const stable = runningSinceMs !== undefined && now - runningSinceMs > stableAfterMs;
  return (stable ? 0 : previous) + 1;
}
