import { buildSandboxImage } from './image.ts';

/** `npm run image [-- --version V]`: builds localhost/choir-sandbox:<version> (+ :latest) and prints the reference. */
function parseArgs(argv: readonly string[]): { version?: string } {
  const at = argv.indexOf('--version');
  if (at === -1) return {};
  const version = argv[at + 1];
  if (!version || !/^[0-9A-Za-z][0-9A-Za-z._-]{0,127}$/.test(version)) {
    console.error('usage: npm run image [-- --version VERSION]  (VERSION: letters, digits, ".", "_", "-")');
    process.exit(2);
  }
  return { version };
}

const image = await buildSandboxImage(parseArgs(process.argv.slice(2)));
console.error(`built ${image.tags.join(', ')} (id ${image.id.slice(0, 12)}, ${(image.sizeBytes / 1e6).toFixed(1)} MB, ${image.buildMs} ms)`);
console.log(image.ref);
