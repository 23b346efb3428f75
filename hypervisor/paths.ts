import { fileURLToPath } from 'node:url';
import path from 'node:path';

/** The checkout this code runs from; scripts, images and reports are found relative to it. */
export const repoRoot = path.resolve(fileURLToPath(new URL('..', import.meta.url)));

export const fromRoot = (...parts: string[]): string => path.join(repoRoot, ...parts);
