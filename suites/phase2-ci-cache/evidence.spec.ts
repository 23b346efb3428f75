import { test, expect } from '../../fixtures/flakes-proof.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runFlakesBuildStep, runFlakesSummaryStep, type LoggedBuild } from '../../fixtures/flakes-workflow-steps.ts';
import { durationCellFor, durationCellRead } from '../../fixtures/summary-duration.ts';
import { countTranscript } from '../../nix/binary-cache/transcript.ts';
import { flakeOutputs } from '../../nix/build.ts';
import { readMarkdownTable } from '../../nix/ci/markdown-table.ts';
import { readFlakesWorkflow } from '../../nix/ci/flakes-workflow.ts';
import { runsAfterFailure } from '../../nix/ci/step-condition.ts';
import { checkReporting } from '../../fixtures/workflow-triggers.ts';
import { formatVersion, projectNodeFloor, reaches, stripsTypes, tsStepsNode } from '../../fixtures/workflow-node-version.ts';
import { flakesCheckName } from '../../gate-runner/github/required-check.ts';
import type { Evidence } from '../../fixtures/evidence.ts';
import { seedFlakesRuns } from '../../fixtures/flakes-runs-stand-in.ts';
import { connectionDefaults } from '../../fixtures/github-connection-defaults.ts';
import { GitHubClient } from '../../gate-runner/github/client.ts';
import { lastTwoFlakesRuns, type FlakesRun } from '../../gate-runner/github/flakes-runs.ts';
import { LocalGitHub } from '../../gate-runner/github/local-github.ts';

/** The caches Nix copied each hit from (`copying path '…' from '<cache>'`), each once, sorted: read here, not by the summary's code. */
function hitSources(log: string): string[] {
  return [...new Set([...log.matchAll(/copying path '\/nix\/store\/[^']+' from '([^']+)'/g)].map((m) => m[1] ?? ''))].sort();
}

/** The job summary's "from" cell as a sorted list of caches ('-' when none). */
function cachesShown(cell: string | undefined): string[] | undefined {
  if (cell === undefined) return undefined;
  return cell === '-' ? [] : cell.split(', ').map((c) => c.trim()).sort();
}

/** The job summary's columns, found by what their headers say. */
function summaryColumns(rows: readonly Record<string, string>[]): Record<'duration' | 'hits' | 'misses' | 'from', string> {
  const column = (name: RegExp): string => Object.keys(rows[0] ?? {}).find((header) => name.test(header)) ?? `no column matching ${String(name)}`;
  return { duration: column(/^duration\b/), hits: column(/^hits\b/), misses: column(/^misses\b/), from: column(/^from\b/) };
}

/**
 * The summary step runs `node nix/ci/job-summary.ts`: every such step of the workflow must get a Node
 * that strips types, at least the project's own floor (package.json engines.node). Read from this
 * checkout's workflow, which is what a deployed target's runs execute too.
 */
async function workflowNodeRunsTheTsSteps(evidence: Evidence): Promise<void> {
  const workflow = readFlakesWorkflow();
  const project = projectNodeFloor();
  const steps = tsStepsNode(workflow);
  await evidence.json('workflow-node-for-ts-steps', { project: { ...project, floor: formatVersion(project.floor) }, thisNode: process.version, steps: steps.map((s) => ({ ...s, version: s.version && formatVersion(s.version) })) });
  expect(stripsTypes(project.floor), `${project.source}: a Node that floor allows cannot run .ts files (type stripping is unflagged from 22.18)`).toBe(true);
  const [major = 0, minor = 0, patch = 0] = process.versions.node.split('.').map(Number);
  expect(reaches({ major, minor, patch }, project.floor), `the Node running the workflow's steps here (${process.version}) against ${project.source}`).toBe(true);
  expect(steps.map((s) => s.run), `${workflow.file}: the steps that run node <file>.ts include the job-summary step`).toContain(workflow.summaryRun);
  for (const step of steps) {
    expect(step.version, `${workflow.file} job ${step.job}, "${step.step}": ${step.node}`).toBeDefined();
    if (step.version) expect(reaches(step.version, project.floor), `${workflow.file} job ${step.job}, "${step.step}" runs on ${step.node}, against ${project.source}`).toBe(true);
  }
}

/** What stands in for GitHub when the run-links step reads flakes.yml runs. */
const runReadingStandIn = "reading runs: a local HTTP server speaking GitHub's REST shapes stood in for GitHub's Actions API";

test('Workflow run links attached.', async ({ flakesProof, evidence }) => {
  // The step that reads runs always reads the local GitHub stand-in, even when the proof is remote:
  // the stand-in is declared so that step never reads as if it came from real GitHub.
  await evidence.provenOn({ place: flakesProof.provenOn.place, standIn: [flakesProof.provenOn.standIn, runReadingStandIn].filter(Boolean).join('; ') });
  await test.step(`the workflow has run links for every pull request to main and every push to it: "${flakesCheckName}" runs for both, unfiltered`, async () => {
    const reporting = checkReporting(readFlakesWorkflow(), flakesCheckName);
    await evidence.json('check-reports-on', reporting);
    expect(reporting, `where "${flakesCheckName}" reports`).toEqual([{ event: 'pull_request into main', gap: undefined }, { event: 'push to main', gap: undefined }]);
  });
  await test.step("from GitHub's REST shapes (served by a local stand-in), Phase 2 reads the two newest completed runs of flakes.yml on the branch, older first: their links, numbers, commits and conclusions, the \"build flakes\" job's link, conclusion and time (a non-blocking job fails inside a successful run), its build step's conclusion and time, hits counted from FlakeHub Cache only, and whether FlakeHub Cache was enabled", async () => {
    const github = await new LocalGitHub().start();
    try {
      const seeded = seedFlakesRuns(github);
      const client = new GitHubClient({ apiUrl: github.apiUrl, owner: 'choiros', repo: 'gates', token: github.token, workflow: 'flakes.yml', branch: 'main' });
      const [older, newer] = await lastTwoFlakesRuns(client);
      // Every field Phase 2 reads of a run (its counts as the paths counted): a field read from the wrong place shows against what the stand-in holds.
      const read = ({ counts, ...run }: FlakesRun) => ({ ...run, hits: counts.hits, misses: counts.misses });
      await evidence.json('flakes-runs-read-from-a-local-github', { provenOn: 'a local HTTP server speaking GitHub\'s REST shapes, holding a cold run, a repeat run, a newer run in progress and a newer run on another branch', read: { older: read(older), newer: read(newer) }, seeded });
      expect(read(older), 'the older run as read').toEqual(seeded.older);
      expect(read(newer), 'the newer run as read').toEqual(seeded.newer);
    } finally {
      await github.stop();
    }
  });
  await test.step("with only a repository named (a target's github section, or GATE_GITHUB_REPOSITORY), Phase 2 reads the runs of this checkout's flakes workflow, on a branch whose pushes run its \"build flakes\" job", async () => {
    const workflow = readFlakesWorkflow();
    const defaults = connectionDefaults().map((d) => ({ ...d, pushRuns: checkReporting(workflow, flakesCheckName, d.branch).find((r) => r.event.startsWith('push'))?.gap ?? 'runs' }));
    await evidence.json('github-connection-defaults', { workflowFile: workflow.file, defaults });
    expect(defaults.map((d) => ({ source: d.source, workflow: d.workflow, pushRuns: d.pushRuns })), 'the runs a remote Phase 2 reads by default').toEqual(defaults.map((d) => ({ source: d.source, workflow: path.basename(workflow.file), pushRuns: 'runs' })));
  });
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
  await test.step('the workflow writes the summary whatever the builds did: its summary step runs after a failed build too', async () => {
    const workflow = readFlakesWorkflow();
    expect(runsAfterFailure(workflow.summaryIf), `${workflow.file}: the job-summary step's if: is ${workflow.summaryIf ?? "absent, so GitHub skips the step once a build fails (give it if: always())"}`).toBe(true);
  });
  await test.step("the workflow's Node can run its job-summary step (node nix/ci/job-summary.ts): setup-node's version meets package.json engines, which strips types", () => workflowNodeRunsTheTsSteps(evidence));
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

  await test.step("the workflow's job-summary step, run on these builds' logs, gives every column of every row as Nix's transcript of that output shows it", async () => {
    const logged = (build: 'cold' | 'warm') => (o: (typeof measurement.outputs)[number]): LoggedBuild => ({ output: o.output, log: o[build].log, durationMs: o[build].durationMs });
    const variants: Record<string, LoggedBuild[]> = {
      cold: measurement.outputs.map(logged('cold')),
      warm: measurement.outputs.map(logged('warm')),
      // Cold and warm logs alternating, so neighbouring rows differ: a figure or cache taken from the wrong row shows.
      mixed: measurement.outputs.map((o, i) => logged(i % 2 === 0 ? 'cold' : 'warm')(o)),
      // What the build step leaves when its second nix build fails (bash -e): the first output measured, the second
      // logged without a duration, the third never started. A build not measured shows no figure, not "0.0 s".
      'failed-midway': measurement.outputs.slice(0, 2).map((o, i) => (i === 0 ? logged('warm')(o) : { output: o.output, log: o.cold.log })),
    };
    for (const [variant, builds] of Object.entries(variants)) {
      const step = await runFlakesSummaryStep(builds);
      await evidence.command(`job-summary-${variant}`, step.script, `${step.summary}${step.stderr}`);
      expect(step.exitCode, `the job-summary step on the ${variant} builds' logs: ${step.stderr}`).toBe(0);
      const rows = readMarkdownTable(step.summary);
      const columns = summaryColumns(rows);
      expect(rows.map((row) => row.output), `the rows of the ${variant} job summary`).toEqual([...flakeOutputs]);
      for (const build of builds) {
        const row = rows.find((r) => r.output === build.output);
        const shown = { duration: durationCellRead(row?.[columns.duration]), hits: row?.[columns.hits], misses: row?.[columns.misses], from: cachesShown(row?.[columns.from]) };
        const counted = countTranscript(build.log);
        const derived = { duration: durationCellFor(build.durationMs), hits: String(counted.hits.length), misses: String(counted.misses.length), from: hitSources(build.log) };
        expect(shown, `${build.output} (${variant}): every column against the transcript and duration it was made from`).toEqual(derived);
      }
      for (const output of flakeOutputs.filter((o) => !builds.some((b) => b.output === o))) {
        const cell = rows.find((r) => r.output === output)?.[columns.duration];
        expect(durationCellRead(cell), `${output} (${variant}): never built, its duration "${cell}"`).toBe(durationCellFor(undefined));
      }
    }
    // The transcripts themselves: the warm builds copied only from the cache this measurement ran, the cold ones from none.
    for (const o of measurement.outputs) {
      expect(hitSources(o.warm.log), `${o.output}: caches the warm build copied from`).toEqual([measurement.cacheUrl]);
      expect(hitSources(o.cold.log), `${o.output}: caches the cold build copied from`).toEqual([]);
    }
  });

  await test.step("on the workflow's own build step, each build's log is all Nix said on stderr, and the job summary gives each build's duration in the unit the step measured it: at least that nix call's own wall time, at most the whole step's", async () => {
    const build = await runFlakesBuildStep();
    expect(build.exitCode, `the build step of .github/workflows/flakes.yml: ${build.stderr.trim().split('\n').slice(-5).join('\n')}`).toBe(0);
    const step = await runFlakesSummaryStep(build.logs);
    await evidence.command('job-summary-of-the-build-step', step.script, `${step.summary}${step.stderr}\n# build-logs/<output>.ms: ${JSON.stringify(Object.fromEntries(build.logs.map((l) => [l.output, l.durationMs])))}\n# each nix call's wall time (local nix adapter), ms: ${JSON.stringify(build.nixCallMs)}\n# the whole build step, ms: ${Math.round(build.stepMs)}`);
    expect(step.exitCode, step.stderr).toBe(0);
    await evidence.json('build-step-nix-stderr', build.nixStderr);
    // The summary counts from build-logs/<output>.log: the step must keep all Nix said, as Nix said it.
    for (const output of flakeOutputs) {
      expect(build.nixStderr[output], `${output}: what nix said on stderr (recorded by the local nix adapter)`).toBeDefined();
      expect(build.logs.find((l) => l.output === output)?.log, `${output}: build-logs/${output}.log against what nix said on stderr`).toBe(build.nixStderr[output]);
    }
    const rows = readMarkdownTable(step.summary);
    const columns = summaryColumns(rows);
    expect(rows.map((row) => row.output)).toEqual([...flakeOutputs]);
    // The summary shows tenths of a second: a figure may be up to 50 ms off either way.
    const tenth = 50;
    let shownTotalMs = 0;
    for (const output of flakeOutputs) {
      const text = rows.find((r) => r.output === output)?.[columns.duration] ?? '';
      const seconds = /^(\d+\.\d) s$/.exec(text)?.[1];
      expect(seconds, `${output}: "${columns.duration}" is "${text}", not seconds as "12.3 s"`).toBeDefined();
      const shownMs = Number(seconds) * 1000;
      shownTotalMs += shownMs;
      const nixMs = build.nixCallMs[output];
      expect(nixMs, `${output}: the nix call's own wall time`).toBeDefined();
      // The step's own figure (build-logs/<output>.ms) wraps that nix call: at least its time, to the
      // millisecond (date's granularity), however short the call. A step timing in seconds writes 0 here.
      const stepFigure = build.logs.find((l) => l.output === output)?.durationMs ?? Number.NaN;
      expect(stepFigure, `${output}: build-logs/${output}.ms (${stepFigure}) against the nix call's own ${nixMs} ms`).toBeGreaterThanOrEqual((nixMs ?? Infinity) - 2);
      expect(shownMs, `${output}: the summary's ${text} against the nix call's own ${nixMs} ms`).toBeGreaterThanOrEqual((nixMs ?? Infinity) - tenth);
      expect(shownMs, `${output}: the summary's ${text} against the whole step's ${Math.round(build.stepMs)} ms`).toBeLessThanOrEqual(build.stepMs + tenth);
    }
    expect(shownTotalMs, `the three durations together against the whole step's ${Math.round(build.stepMs)} ms`).toBeLessThanOrEqual(build.stepMs + tenth * flakeOutputs.length);
  });

  // Local only, with the step above: it runs this checkout's workflow steps with this machine's nix; a deployed
  // target's runs are read from GitHub, where a failed run's summary is what that run wrote.
  await test.step("a run whose build fails: the workflow's build step, its nix unable to fetch the flakes, then its job-summary step on what it left; a build that was not measured shows no duration, every duration shown is the one measured", async () => {
    // An empty directory as the checkout the local nix builds from: the step's first `nix build` fails for real.
    const unfetchable = mkdtempSync(path.join(tmpdir(), 'phase2-unfetchable-flakes-'));
    try {
      const build = await runFlakesBuildStep({ nixCheckout: unfetchable });
      const step = await runFlakesSummaryStep(build.logs);
      await evidence.command('job-summary-of-a-failed-build-step', step.script, `${step.summary}${step.stderr}\n# the build step: exit ${build.exitCode}\n${build.stderr.trim().split('\n').slice(-5).join('\n')}\n# build-logs/<output>.ms: ${JSON.stringify(Object.fromEntries(build.logs.map((l) => [l.output, l.durationMs ?? 'absent'])))}`);
      expect(build.exitCode, 'the build step with a nix that cannot fetch the flakes').not.toBe(0);
      // A build failed when nix started it (it has a log) and printed no store path for it (build-logs/<output>.json).
      const failed = build.logs.map((l) => l.output).filter((output) => !/^\/nix\/store\//.test(build.built[output] ?? ''));
      expect(failed.length, `builds the step started whose nix build failed: ${JSON.stringify(build.built)}`).toBeGreaterThan(0);
      expect(step.exitCode, `the job-summary step after the failed build: ${step.stderr}`).toBe(0);
      const rows = readMarkdownTable(step.summary);
      const columns = summaryColumns(rows);
      expect(rows.map((row) => row.output)).toEqual([...flakeOutputs]);
      for (const output of flakeOutputs) {
        const cell = rows.find((r) => r.output === output)?.[columns.duration];
        const logged = build.logs.find((l) => l.output === output);
        // Failed or never started: not a measured build, whatever the step left in build-logs/<output>.ms.
        const measured = logged && !failed.includes(output) ? logged.durationMs : undefined;
        expect(durationCellRead(cell), `${output} (${failed.includes(output) ? 'failed' : logged ? 'built' : 'never started'}): the summary's duration "${cell}", build-logs/${output}.ms ${logged?.durationMs ?? 'absent'}`).toBe(durationCellFor(measured));
      }
    } finally {
      rmSync(unfetchable, { recursive: true, force: true });
    }
  });
});

test('Build duration comparison attached.', async ({ flakesProof, evidence }) => {
  await evidence.provenOn(flakesProof.provenOn);
  await test.step("the workflow's Node can run the step that writes the durations (node nix/ci/job-summary.ts): setup-node's version meets package.json engines", () => workflowNodeRunsTheTsSteps(evidence));
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
