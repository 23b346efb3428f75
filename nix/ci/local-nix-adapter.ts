import { accessSync, constants, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../../hypervisor/paths.ts';
import { buildArgs } from '../build.ts';
import { nixBaseArgs } from '../nix-cli.ts';

const quote = (text: string): string => `'${text.replaceAll("'", "'\\''")}'`;

function nixOnPath(): string {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, 'nix');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  throw new Error('no nix on PATH: install it with `apt-get install -y nix-bin` (scripts/setup.sh does it), then run this again.');
}

/**
 * Writes `binDir/nix`: this machine's nix CLI as the local builds call it (nix/build.ts), for a
 * workflow step run here. A flake path the step names (`./nix/sandbox`) becomes this checkout's
 * git+file:// flake with the same package set and substituters as the local builds, so the step
 * builds what the local line builds. It stands in for the runner's nix, which reaches FlakeHub
 * Cache and nixpkgs on GitHub. Returns binDir.
 *
 * With `timingsFile`, each call also appends `<flake path as the step named it>\t<wall ms>` there:
 * the nix call's own wall time, in milliseconds, measured outside the step's script, so a line can
 * check the durations the step writes (build-logs/<output>.ms) against it; and what nix said on
 * stderr goes to `<timingsFile>.<last flake path segment>.stderr` as well as to the step, so a line
 * can check the step kept Nix's whole transcript (build-logs/<output>.log).
 */
export async function writeLocalNixAdapter(binDir: string, checkout = repoRoot, timingsFile?: string): Promise<string> {
  const { args, flakeRef } = await buildArgs('hypervisor', { checkout });
  const localFlags = args.slice(args.indexOf(flakeRef) + 1);
  const realNix = process.env.CHOIROS_NIX_BINARY ?? nixOnPath();
  mkdirSync(binDir, { recursive: true });
  const script = [
    '#!/usr/bin/env bash',
    'set -euo pipefail',
    'args=()',
    'flake=-',
    'for arg in "$@"; do',
    '  case "$arg" in',
    `    ./*) flake="$arg"; args+=(${quote(`git+file://${checkout}?dir=`)}"\${arg#./}") ;;`,
    '    *) args+=("$arg") ;;',
    '  esac',
    'done',
    ...(timingsFile
      ? [
          'started=$(date +%s%3N)',
          'status=0',
          'said=$(mktemp)',
          `${[realNix, ...nixBaseArgs].map(quote).join(' ')} "\${args[@]}" ${localFlags.map(quote).join(' ')} 2> "$said" || status=$?`,
          `printf '%s\\t%s\\n' "$flake" "$(( $(date +%s%3N) - started ))" >> ${quote(timingsFile)}`,
          // What nix said on stderr, kept outside the step's script, then passed on to the step as nix would have said it.
          `cat "$said" >> ${quote(`${timingsFile}.`)}"\${flake##*/}.stderr"`,
          'cat "$said" >&2',
          'rm -f "$said"',
          'exit "$status"',
        ]
      : [`exec ${[realNix, ...nixBaseArgs].map(quote).join(' ')} "\${args[@]}" ${localFlags.map(quote).join(' ')}`]),
    '',
  ].join('\n');
  writeFileSync(path.join(binDir, 'nix'), script, { mode: 0o755 });
  return binDir;
}
