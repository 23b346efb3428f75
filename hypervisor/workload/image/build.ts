import { runsAsScript } from '../../paths.ts';
import { buildSandboxImage } from './image.ts';

export const imageUsage = 'usage: npm run image [-- --version VERSION]  (VERSION: letters, digits, ".", "_", "-")';

/**
 * `npm run image [-- --version V]`: builds localhost/choir-sandbox:<version> (+ :latest) and prints the reference.
 * The arguments, or undefined for a version that is missing or not a valid image tag (the caller prints the usage and exits 2).
 */
export function parseImageArgs(argv: readonly string[]): { version?: string } | undefined {
  const at = argv.indexOf('--version');
  if (at === -1) return {};
  const version = argv[at + 1];
  if (!version || !/^[0-9A-Za-z][0-9A-Za-z._-]{0,127}$/.test(version)) return undefined;
  return { version };
}

// Exported for its test; building only when run as the script.
if (runsAsScript(import.meta.url)) {
  const args = parseImageArgs(process.argv.slice(2));
  if (!args) {
    console.error(imageUsage);
    process.exit(2);
  }
  const image = await buildSandboxImage(args);
  console.error(`built ${image.tags.join(', ')} (id ${image.id.slice(0, 12)}, ${(image.sizeBytes / 1e6).toFixed(1)} MB, ${image.buildMs} ms)`);
  console.log(image.ref);
}
