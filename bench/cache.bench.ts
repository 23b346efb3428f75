import { rmSync } from 'node:fs';
import { makeExperimentDir } from '../nix/binary-cache/experiment-dir.ts';
import { measureCache } from '../nix/binary-cache/measure.ts';

/**
 * `npm run bench -- cache`: the three flakes built cold (no cache, in an empty store of their own)
 * and warm (from the signed HTTP binary cache on 127.0.0.1, into a second empty store), in the same run. Goal: warm at most
 * 10% of cold. Both figures are whole `nix build` calls, evaluation included.
 */
const goal = 0.1;
const { dir: workDir, where } = makeExperimentDir('choiros-cache-bench-');
try {
  const m = await measureCache({ workDir });
  const s = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
  console.log(`package set: ${m.packageSet}; stores and cache in ${where}; cache ${m.cacheUrl}; push ${s(m.pushMs)} (${m.pushedPaths.length} paths)`);
  console.log('output      cold       warm       warm/cold  hits  misses');
  for (const o of m.outputs) {
    console.log(`${o.output.padEnd(11)} ${s(o.cold.durationMs).padEnd(10)} ${s(o.warm.durationMs).padEnd(10)} ${(o.warm.durationMs / o.cold.durationMs).toFixed(2).padEnd(10)} ${String(o.warm.transcript.hits.length).padEnd(5)} ${o.warm.transcript.misses.length}`);
  }
  const ratio = m.warmTotalMs / m.coldTotalMs;
  console.log(`all three   ${s(m.coldTotalMs).padEnd(10)} ${s(m.warmTotalMs).padEnd(10)} ${ratio.toFixed(2)}  (goal <= ${goal.toFixed(2)}: ${ratio <= goal ? 'met' : 'NOT met'})`);
} finally {
  rmSync(workDir, { recursive: true, force: true });
}
