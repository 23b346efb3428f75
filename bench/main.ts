import { readdirSync } from 'node:fs';
import { execaNode } from 'execa';
import { fromRoot } from '../hypervisor/paths.ts';

/**
 * `npm run bench [-- NAME...]`: runs each bench/<name>.bench.ts in its own process, one after the
 * other (so they never compete for the two cores), and lets each print its own figures.
 */
const wanted = process.argv.slice(2);
const all = readdirSync(fromRoot('bench')).filter((f) => f.endsWith('.bench.ts')).sort();
const chosen = wanted.length ? all.filter((f) => wanted.includes(f.replace(/\.bench\.ts$/, ''))) : all;
if (wanted.length && chosen.length !== wanted.length) {
  console.error(`unknown benchmark in: ${wanted.join(', ')}; available: ${all.map((f) => f.replace(/\.bench\.ts$/, '')).join(', ')}`);
  process.exit(2);
}
let failed = 0;
for (const file of chosen) {
  console.log(`\n## ${file.replace(/\.bench\.ts$/, '')}`);
  const run = await execaNode(fromRoot('bench', file), [], { stdio: 'inherit', reject: false });
  if (run.exitCode !== 0) failed += 1;
}
process.exit(failed ? 1 : 0);
