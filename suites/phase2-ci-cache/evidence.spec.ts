import { test, expect } from '../../fixtures/flakes-proof.ts';
import { runFlakesSummaryStep } from '../../fixtures/flakes-workflow-steps.ts';
import { flakeOutputs } from '../../nix/build.ts';
import { readMarkdownTable } from '../../nix/ci/markdown-table.ts';
import { readFlakesWorkflow } from '../../nix/ci/flakes-workflow.ts';

test('Workflow run links attached.', async ({ flakesProof, evidence }) => {
  await evidence.provenOn(flakesProof.provenOn);
  if (flakesProof.kind === 'remote') {
    const links = flakesProof.runs.map((run) => ({ run: run.url, job: run.jobUrl, headSha: run.headSha, conclusion: run.conclusion }));
    await evidence.json('workflow-run-links', links);
    for (const link of links) expect(link.run).toMatch(/^https:\/\/github\.com\/[^/]+\/[^/]+\/actions\/runs\/\d+/);
    return;
  }
  // Locally there is no run to link: the build transcript and the workflow it stands in for.
  const { measurement } = flakesProof;
  const transcript = await evidence.text('local-build-transcript.txt', measurement.transcript);
  await evidence.text('flakes.yml', readFlakesWorkflow().text, 'text/yaml');
  expect(transcript).toBeTruthy();
  for (const output of measurement.outputs) {
    expect(measurement.transcript).toContain(`# cold build of ${output.output}`);
    expect(measurement.transcript).toContain(`# warm build of ${output.output} from ${measurement.cacheUrl}`);
  }
  expect(measurement.transcript).toMatch(/\$ nix build --json --no-link git\+file:\/\/\S+\?dir=hypervisor/);
  // A build transcript shows what Nix did: each cold build built its own derivation, each warm one copied from the cache.
  const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  for (const output of measurement.outputs) {
    expect(measurement.transcript, `${output.output}: "building '…-choiros-${output.output}-….drv'" in the transcript`).toMatch(new RegExp(`building '/nix/store/[0-9a-z]{32}-choiros-${output.output}-[^']*\\.drv'`));
  }
  expect(measurement.transcript, 'a "copying path … from <cache>" line in the transcript').toMatch(new RegExp(`copying path '/nix/store/[^']+' from '${escape(measurement.cacheUrl)}'`));
});

test('Cache hit/miss summary attached.', async ({ flakesProof, evidence }) => {
  await evidence.provenOn(flakesProof.provenOn);
  if (flakesProof.kind === 'remote') {
    const summary = flakesProof.runs.map((run) => ({ run: run.url, hits: run.counts.hits.length, misses: run.counts.misses.length, hitPaths: run.counts.hits, builtDerivations: run.counts.misses }));
    await evidence.json('cache-hit-miss-summary', summary);
    expect(summary.every((s) => s.hits + s.misses > 0), 'each run built or copied something').toBe(true);
    return;
  }
  const { measurement } = flakesProof;
  const rows = measurement.outputs.map((o) => `| ${o.output} | ${o.cold.transcript.misses.length} | ${o.warm.transcript.hits.length} | ${o.warm.transcript.misses.length} | ${o.warm.cacheLog.narinfoHits} | ${o.warm.cacheLog.narinfoMisses} | ${o.warm.cacheLog.narsServed} |`);
  const table = ['| output | cold: built | warm: copied from cache (hits) | warm: built (misses) | cache log: narinfo 200 | narinfo 404 | NARs served |', '|---|---|---|---|---|---|---|', ...rows].join('\n');
  await evidence.text('cache-hit-miss-summary.md', table, 'text/markdown');
  await evidence.logExcerpt('cache-request-log.jsonl', measurement.requests.map((r) => JSON.stringify(r)));
  for (const o of measurement.outputs) {
    expect(o.warm.transcript.hits.length + o.warm.transcript.misses.length, `${o.output}: hits and misses counted from Nix's output`).toBeGreaterThan(0);
    // The two sides of the summary agree: every path Nix copied is a NAR the cache served, after a narinfo it answered.
    expect(o.warm.cacheLog.narsServed, `${o.output}: NARs the cache served against paths Nix copied`).toBe(o.warm.transcript.hits.length);
    expect(o.warm.cacheLog.narinfoHits, `${o.output}: narinfo answered 200 against paths Nix copied`).toBeGreaterThanOrEqual(o.warm.transcript.hits.length);
  }
  expect(measurement.requests.some((r) => r.path.endsWith('.narinfo') && r.status === 200)).toBe(true);

  await test.step("the workflow's job-summary step, run on these builds' logs, reports each output's hits and misses as Nix's transcript counts them", async () => {
    for (const build of ['cold', 'warm'] as const) {
      const step = await runFlakesSummaryStep(measurement.outputs.map((o) => ({ output: o.output, log: o[build].log, durationMs: o[build].durationMs })));
      await evidence.command(`job-summary-${build}`, step.script, `${step.summary}${step.stderr}`);
      expect(step.exitCode, `the job-summary step on the ${build} builds' logs: ${step.stderr}`).toBe(0);
      const rows = readMarkdownTable(step.summary);
      const column = (name: RegExp): string => Object.keys(rows[0] ?? {}).find((header) => name.test(header)) ?? `no column matching ${String(name)}`;
      const [hits, misses, duration] = [column(/^hits\b/), column(/^misses\b/), column(/^duration\b/)];
      expect(rows.map((row) => row.output), `the rows of the ${build} job summary`).toEqual([...flakeOutputs]);
      for (const o of measurement.outputs) {
        const row = rows.find((r) => r.output === o.output);
        const counted = o[build].transcript;
        expect({ hits: row?.[hits], misses: row?.[misses] }, `${o.output} (${build}): "${hits}" and "${misses}" against Nix's transcript`).toEqual({ hits: String(counted.hits.length), misses: String(counted.misses.length) });
        expect(row?.[duration], `${o.output} (${build}): "${duration}"`).toBe(`${(Math.round(o[build].durationMs) / 1000).toFixed(1)} s`);
      }
    }
  });
});

test('Build duration comparison attached.', async ({ flakesProof, evidence }) => {
  await evidence.provenOn(flakesProof.provenOn);
  if (flakesProof.kind === 'remote') {
    const [older, newer] = flakesProof.runs;
    const comparison = { baseline: { run: older.url, buildStepMs: older.buildStepMs }, repeat: { run: newer.url, buildStepMs: newer.buildStepMs }, ratio: older.buildStepMs && newer.buildStepMs ? newer.buildStepMs / older.buildStepMs : undefined };
    await evidence.json('build-duration-comparison', comparison);
    expect(comparison.ratio).toBeDefined();
    return;
  }
  const { measurement } = flakesProof;
  const rows = measurement.outputs.map((o) => `| ${o.output} | ${(o.cold.durationMs / 1000).toFixed(2)} s | ${(o.warm.durationMs / 1000).toFixed(2)} s | ${(o.warm.durationMs / o.cold.durationMs).toFixed(2)} |`);
  const table = [
    '| output | cold (no cache) | warm (from the cache) | warm / cold |',
    '|---|---|---|---|',
    ...rows,
    `| all three | ${(measurement.coldTotalMs / 1000).toFixed(2)} s | ${(measurement.warmTotalMs / 1000).toFixed(2)} s | ${(measurement.warmTotalMs / measurement.coldTotalMs).toFixed(2)} |`,
    '',
    'Built in dependency order (desktop, sandbox, hypervisor) cold in an empty store of their own, warm in a second empty store from the cache alone; each figure is that `nix build` call, evaluation included.',
  ].join('\n');
  await evidence.text('build-duration-comparison.md', table, 'text/markdown');
  expect(measurement.outputs).toHaveLength(3);
  for (const o of measurement.outputs) {
    expect(o.cold.durationMs).toBeGreaterThan(0);
    expect(o.warm.durationMs).toBeGreaterThan(0);
  }
  // The "all three" row is the sum of the rows above it.
  expect(measurement.coldTotalMs, 'cold total').toBeCloseTo(measurement.outputs.reduce((s, o) => s + o.cold.durationMs, 0), 3);
  expect(measurement.warmTotalMs, 'warm total').toBeCloseTo(measurement.outputs.reduce((s, o) => s + o.warm.durationMs, 0), 3);
});
