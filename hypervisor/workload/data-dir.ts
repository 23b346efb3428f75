import { accessSync, constants, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { SandboxSettings } from './settings.ts';

export class DataDirError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DataDirError';
  }
}

function ensureWritable(dir: string, variable: string): void {
  try {
    mkdirSync(dir, { recursive: true });
    accessSync(dir, constants.W_OK);
  } catch (error) {
    const uid = process.getuid?.() ?? 'this user';
    throw new DataDirError(
      `${variable} directory ${dir} is not writable by uid ${uid} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}). ` +
        `Give that uid the directory: mount it with podman's :U option (-v HOST:${dir}:U) or chown it on the host.`,
    );
  }
}

/** Fails early, naming the directory and the fix, instead of as an SQLite or write error mid-run. */
export function checkDataDirs(settings: SandboxSettings): void {
  ensureWritable(settings.dataDir, 'CHOIROS_DATA_DIR');
  const file = settings.databaseUrl.replace(/^sqlite:/, '').replace(/^\/\/(?=\/)/, '');
  if (file !== ':memory:') ensureWritable(path.dirname(path.resolve(file)), 'DATABASE_URL');
}
