import { mkdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** Podman's image store is machine-wide, so builds from any checkout or test worker take turns. */
const lockDir = path.join(tmpdir(), 'choir-sandbox-image.lock');
const staleAfterMs = 5 * 60_000;
const waitAtMostMs = 5 * 60_000;

export async function withBuildLock<T>(work: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + waitAtMostMs;
  for (;;) {
    try {
      mkdirSync(lockDir);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      // A build that died without cleaning up must not block every later one.
      const age = Date.now() - (statSync(lockDir, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (age > staleAfterMs) rmSync(lockDir, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`waited ${waitAtMostMs / 1000} s for another sandbox image build (lock ${lockDir}); remove the lock if no build is running`, { cause: error });
      await sleep(200);
    }
  }
  try {
    return await work();
  } finally {
    rmSync(lockDir, { recursive: true, force: true });
  }
}
