import { readFile, statfs } from 'node:fs/promises';
import { freemem, totalmem } from 'node:os';
import path from 'node:path';

/** Percent of memory still available (MemAvailable, which counts reclaimable cache; else free memory). */
export async function memoryHeadroomPercent(): Promise<number> {
  const meminfo = await readFile('/proc/meminfo', 'utf8').catch(() => '');
  const field = (name: string): number | undefined => {
    const match = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(meminfo);
    return match ? Number(match[1]) : undefined;
  };
  const total = field('MemTotal');
  const available = field('MemAvailable');
  if (total && available !== undefined) return (available / total) * 100;
  return (freemem() / totalmem()) * 100;
}

/** Percent of the file system holding `dir` (or its nearest existing parent) still free to unprivileged writers. */
export async function diskHeadroomPercent(dir: string): Promise<number> {
  let at = path.resolve(dir);
  for (;;) {
    try {
      const fs = await statfs(at);
      return fs.blocks > 0 ? (fs.bavail / fs.blocks) * 100 : 0;
    } catch (error) {
      const parent = path.dirname(at);
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || parent === at) throw error;
      at = parent;
    }
  }
}
