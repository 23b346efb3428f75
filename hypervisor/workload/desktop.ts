import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The desktop page: the files in public/, beside this module in the checkout and beside the
 * bundle in the image (/app/public). Loaded once; they are small and never change at run time.
 */
export const publicDir = fileURLToPath(new URL('./public/', import.meta.url));

const contentTypes: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

export interface DesktopAsset {
  contentType: string;
  body: Buffer;
}

export function loadDesktopAssets(dir = publicDir): Map<string, DesktopAsset> {
  const assets = new Map<string, DesktopAsset>();
  for (const name of readdirSync(dir)) {
    const contentType = contentTypes[path.extname(name)];
    if (!contentType) continue;
    const asset = { contentType, body: readFileSync(path.join(dir, name)) };
    assets.set(`/${name}`, asset);
    if (name === 'index.html') assets.set('/', asset);
  }
  if (!assets.has('/')) throw new Error(`the desktop page ${path.join(dir, 'index.html')} is missing: the sandbox build is incomplete`);
  return assets;
}
