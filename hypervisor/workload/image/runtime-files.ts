import { execa } from 'execa';
import { closeSync, openSync, readSync, realpathSync } from 'node:fs';
import { fromRoot } from '../../paths.ts';

/** A file the image needs: where it goes in the image, and the real file on this host it comes from. */
export interface RuntimeFile {
  imagePath: string;
  hostPath: string;
}

function isElf(file: string): boolean {
  const magic = Buffer.alloc(4);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, magic, 0, 4, 0);
  } finally {
    closeSync(fd);
  }
  return magic.equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46]));
}

/** The Node binary the project runs (the npm package `node`, Node 24, not the system's), resolved through symlinks. */
export function nodeBinary(): string {
  const installed = fromRoot('node_modules', 'node', 'bin', 'node');
  let binary: string;
  try {
    binary = realpathSync(installed);
  } catch {
    throw new Error(`${installed} is missing: run npm install (the image ships the project's own Node 24).`);
  }
  if (!isElf(binary)) throw new Error(`${binary} is not a Linux executable (ELF); reinstall the npm package "node" (npm install).`);
  return binary;
}

/**
 * The shared libraries `ldd` lists for `binary`, including the dynamic loader, each at the path the
 * loader looks for it (the image has no symlinked /lib, so every library lands as a real file).
 */
export async function sharedLibraries(binary: string): Promise<RuntimeFile[]> {
  const { stdout } = await execa('ldd', [binary]).catch((error: Error) => {
    throw new Error(`ldd ${binary} failed: ${error.message}. The image needs ldd (Debian package libc-bin) to find Node's shared libraries.`, { cause: error });
  });
  const files: RuntimeFile[] = [];
  for (const line of stdout.split('\n')) {
    const linked = /=>\s+(\/\S+)/.exec(line);
    const loader = /^\s*(\/\S+)\s+\(/.exec(line);
    const imagePath = linked?.[1] ?? loader?.[1];
    if (/=>\s+not found/.test(line)) throw new Error(`ldd ${binary}: a library is missing on this host: ${line.trim()}`);
    if (imagePath) files.push({ imagePath, hostPath: realpathSync(imagePath) });
  }
  if (!files.some((f) => f.imagePath.includes('ld-linux'))) throw new Error(`ldd ${binary} listed no dynamic loader; is it a dynamically linked Linux binary?`);
  return files;
}
