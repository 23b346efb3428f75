import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { runsAsScript } from '../../hypervisor/paths.ts';
import { countTranscript } from '../binary-cache/transcript.ts';
import { flakeOutputs } from '../outputs.ts';

/**
 * `node nix/ci/job-summary.ts DIR`: the flakes workflow's job summary (Markdown on stdout), from
 * the build step's files in DIR: <output>.log (Nix's transcript), <output>.ms (the build's wall
 * time). Hits are `copying path … from '<cache>'`, misses `building '….drv'`: Nix's own lines.
 * Needs only Node 24 (no npm install), so it runs even when the build step failed.
 */
export function jobSummary(dir: string): string {
  const rows: string[] = [];
  for (const output of flakeOutputs) {
    const logFile = path.join(dir, `${output}.log`);
    if (!existsSync(logFile)) {
      rows.push(`| ${output} | not built | | | |`);
      continue;
    }
    const counts = countTranscript(readFileSync(logFile, 'utf8'));
    const msFile = path.join(dir, `${output}.ms`);
    const ms = existsSync(msFile) ? Number(readFileSync(msFile, 'utf8').trim()) : NaN;
    const sources = [...new Set(readFileSync(logFile, 'utf8').match(/from '([^']+)'/g) ?? [])].map((s) => s.slice(6, -1));
    rows.push(`| ${output} | ${Number.isFinite(ms) ? `${(ms / 1000).toFixed(1)} s` : 'failed'} | ${counts.hits.length} | ${counts.misses.length} | ${sources.join(', ') || '-'} |`);
  }
  return ['## Flake builds: cache hits and misses', '', '| output | duration | hits (copied from a cache) | misses (built) | from |', '|---|---|---|---|---|', ...rows, ''].join('\n');
}

// Run as a program, also through a symlinked checkout (where argv[1] is not the module's real path).
if (runsAsScript(import.meta.url)) {
  const dir = process.argv[2];
  if (!dir) {
    console.error('usage: node nix/ci/job-summary.ts BUILD_LOG_DIR');
    process.exit(2);
  }
  process.stdout.write(jobSummary(dir));
}
