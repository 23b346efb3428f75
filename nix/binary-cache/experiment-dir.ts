import { accessSync, constants, mkdtempSync, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** Linux's magic number for tmpfs (statfs(2)). */
const tmpfsMagic = 0x01021994;
const memoryDir = '/dev/shm';

function inMemory(dir: string): boolean {
  try {
    accessSync(dir, constants.W_OK);
    return statfsSync(dir).type === tmpfsMagic;
  } catch {
    return false;
  }
}

/**
 * A new directory for the cache experiment (measure.ts): its two stores and its binary cache.
 * Cold and warm builds are compared by duration, and on disk the page cache's writeback makes the
 * same build take anywhere from 2 to 9 s here (measured with `npm run bench -- cache`), which
 * swamps the difference being measured; in memory (/dev/shm, a tmpfs, where the machine has one)
 * the figures are steady run to run. Elsewhere it falls back to the temp dir and says so in `where`.
 */
export function makeExperimentDir(prefix: string): { dir: string; where: 'memory (tmpfs)' | 'disk' } {
  if (inMemory(memoryDir)) return { dir: mkdtempSync(path.join(memoryDir, prefix)), where: 'memory (tmpfs)' };
  return { dir: mkdtempSync(path.join(tmpdir(), prefix)), where: 'disk' };
}
