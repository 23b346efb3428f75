import { readFileSync } from 'node:fs';
import { closuresFromCache, pushRecordAgainstCache } from '../../fixtures/closure-from-cache.ts';
import { test, expect } from '../../fixtures/flakes-proof.ts';
import { runFlakesBuildStep } from '../../fixtures/flakes-workflow-steps.ts';
import path from 'node:path';
import { fromRoot, repoRoot } from '../../hypervisor/paths.ts';
import { appOf, checkoutProgramFiles, notPackaged, packagedFiles } from '../../fixtures/package-sources.ts';
import { toplevelPackagePaths } from '../../fixtures/toplevel-packages.ts';
import { flakeOutputs } from '../../nix/build.ts';
import { runBuiltProgram } from '../../nix/run-built.ts';
import { runBuiltCli } from '../../fixtures/built-cli.ts';
import { readFlakesWorkflow } from '../../nix/ci/flakes-workflow.ts';
import { misordered } from '../../fixtures/workflow-step-order.ts';

test('CI builds `sandbox`, `desktop`, and `hypervisor` flakes successfully.', async ({ flakesProof, evidence }) => {
  await evidence.provenOn(flakesProof.provenOn);
  await test.step("the workflow's build job checks out the repository and installs Nix before its build step, and runs the build before the summary", () => {
    const workflow = readFlakesWorkflow();
    expect(misordered(workflow, [['checkout', 'build'], ['nix installer', 'build'], ['build', 'summary']]), `${workflow.file}: the build job's steps out of order or missing`).toEqual([]);
  });
  if (flakesProof.kind === 'remote') {
    const [, latest] = flakesProof.runs;
    await evidence.json('latest-run', latest);
    expect(latest.buildStepConclusion, `the build step of ${latest.url}`).toBe('success');
    expect(latest.jobConclusion, `the "build flakes" job of ${latest.url}`).toBe('success');
    return;
  }
  const { measurement } = flakesProof;
  await evidence.text('build-transcript.txt', measurement.transcript);

  await test.step('each flake built from a clean store, every derivation of its own built here', async () => {
    expect(measurement.outputs.map((o) => o.output)).toEqual([...flakeOutputs]);
    for (const output of measurement.outputs) {
      expect(output.cold.storePath, output.output).toMatch(new RegExp(`^/nix/store/[0-9a-z]{32}-choiros-${output.output}-`));
      expect(output.cold.transcript.misses.some((drv) => drv.includes(`-choiros-${output.output}-`)), `${output.output} was built, not found in the store`).toBe(true);
    }
    expect(new Set(measurement.outputs.map((o) => o.cold.store)), 'every cold build ran in the one store made empty for them').toEqual(new Set([measurement.stores.cold]));
  });

  await test.step("the workflow's build step, run here, builds the same three flakes: each output's store path is the one built above", async () => {
    const step = await runFlakesBuildStep();
    await evidence.command('workflow-build-step', step.script, `# run with bash -eo pipefail in a workspace of this checkout; nix/ci/local-nix-adapter.ts stood in for the runner's nix\nexit ${step.exitCode}\n${step.stderr}\nbuild-logs/*.json: ${JSON.stringify(step.built, null, 2)}`);
    expect(step.exitCode, `the build step of .github/workflows/flakes.yml: ${step.stderr.trim().split('\n').slice(-5).join('\n')}`).toBe(0);
    expect(Object.keys(step.built).sort(), 'the outputs the build step wrote build-logs/<output>.json for').toEqual([...flakeOutputs].sort());
    for (const output of measurement.outputs) expect(step.built[output.output], `${output.output}: the store path the workflow's build step built`).toBe(output.warm.storePath);
  });

  await test.step("the top-level flake.nix gives the same three packages: its packages.<system>.{desktop,sandbox,hypervisor} are the store paths the three flakes built, and its default is the hypervisor", async () => {
    const toplevel = await toplevelPackagePaths(measurement.packageSet);
    await evidence.command('toplevel-flake-packages', toplevel.command.join(' '), JSON.stringify(toplevel.paths, null, 2));
    const built = Object.fromEntries(measurement.outputs.map((o) => [o.output, o.warm.storePath]));
    expect(toplevel.paths, "the top-level flake's packages against the three flakes' builds").toEqual({ ...built, default: built.hypervisor });
  });
  const [desktop, sandbox, hypervisor] = measurement.outputs;
  await test.step("the hypervisor's bin/choiros-hypervisor starts, answers /health, and stops on SIGTERM (the signal reaches the server: a clean exit, its port free)", async () => {
    const ran = await runBuiltProgram(hypervisor?.warm.storePath ?? '', 'choiros-hypervisor');
    await evidence.json('hypervisor-health', ran);
    expect(ran.health.status).toBe('healthy');
    expect(ran.stopped).toEqual({ code: 0, signal: null, portFreed: true });
  });
  await test.step("the hypervisor's bin/choiros-hypervisor passes its arguments on to the operator's commands: `help` lists them and exits 0, an unknown command exits 2 naming it (neither starts the server)", async () => {
    const storePath = hypervisor?.warm.storePath ?? '';
    const help = await runBuiltCli(storePath, ['help']);
    const unknown = await runBuiltCli(storePath, ['no-such-command']);
    await evidence.json('hypervisor-cli-arguments', { help, unknown });
    expect({ exitCode: help.exitCode, stoppedServing: help.stoppedServing }, 'choiros-hypervisor help').toEqual({ exitCode: 0, stoppedServing: false });
    for (const command of ['serve', 'rollback', 'pointers']) expect(help.stdout, `the usage choiros-hypervisor help prints names ${command}`).toContain(`  ${command}`);
    expect({ exitCode: unknown.exitCode, stoppedServing: unknown.stoppedServing }, 'choiros-hypervisor no-such-command').toEqual({ exitCode: 2, stoppedServing: false });
    expect(unknown.stderr).toContain('unknown command "no-such-command"');
  });
  await test.step("the sandbox's bin/choiros-sandbox passes its health check and stops on SIGTERM (a clean exit, its port free)", async () => {
    const ran = await runBuiltProgram(sandbox?.warm.storePath ?? '', 'choiros-sandbox');
    await evidence.json('sandbox-health', ran);
    expect(ran.health).toMatchObject({ status: 'healthy', service: 'choiros-sandbox' });
    expect(ran.stopped).toEqual({ code: 0, signal: null, portFreed: true });
  });
  await test.step('both programs run one app package holding the sources of the checkout\'s hypervisor/ and package.json, and no test, test helper, image builder, flake or document', async () => {
    const app = appOf(path.join(hypervisor?.warm.storePath ?? '', 'bin', 'choiros-hypervisor'));
    expect(appOf(path.join(sandbox?.warm.storePath ?? '', 'bin', 'choiros-sandbox')), 'the app the sandbox runs').toBe(app);
    const shipped = packagedFiles(app);
    const expected = checkoutProgramFiles(repoRoot).filter((file) => notPackaged(file) === undefined);
    await evidence.json('app-package-files', { app, shipped });
    expect(shipped.flatMap((file) => (notPackaged(file) ? [`${file}: ${notPackaged(file)}`] : [])), `files of ${app}/lib/choiros that are not part of the program`).toEqual([]);
    expect(shipped, `${app}/lib/choiros against the checkout's program files`).toEqual(expected);
  });
  await test.step('the desktop package holds the page the sandbox serves', async () => {
    const page = readFileSync(`${desktop?.warm.storePath ?? ''}/share/choiros-desktop/index.html`, 'utf8');
    expect(page).toBe(readFileSync(fromRoot('hypervisor', 'workload', 'public', 'index.html'), 'utf8'));
  });
});

test('Repeat build shows improved duration with cache hits.', async ({ flakesProof, evidence }) => {
  await evidence.provenOn(flakesProof.provenOn);
  if (flakesProof.kind === 'remote') {
    const [older, newer] = flakesProof.runs;
    await evidence.json('runs-compared', { older, newer });
    expect(newer.counts.hits.length, `paths copied from FlakeHub Cache in ${newer.url}`).toBeGreaterThan(0);
    expect(older.buildStepMs, `the build step's duration in ${older.url}`).toBeDefined();
    expect(newer.buildStepMs ?? Infinity, `the repeat build (${newer.url}) against the previous one (${older.url})`).toBeLessThan(older.buildStepMs ?? 0);
    return;
  }
  const { measurement } = flakesProof;
  await evidence.json('durations-and-hits', measurement.outputs.map((o) => ({ output: o.output, coldMs: Math.round(o.cold.durationMs), warmMs: Math.round(o.warm.durationMs), hits: o.warm.transcript.hits.length, misses: o.warm.transcript.misses.length, cache: o.warm.cacheLog })));
  await test.step("every output came from the cache: Nix copied paths from it and built nothing", async () => {
    for (const output of measurement.outputs) {
      expect(output.warm.transcript.hits.length, `${output.output}: "copying path … from '${measurement.cacheUrl}'" lines`).toBeGreaterThan(0);
      expect(output.warm.transcript.misses, `${output.output}: derivations built in the repeat build`).toEqual([]);
      expect(output.warm.cacheLog.narinfoHits, `${output.output}: narinfo answered 200 by the cache`).toBeGreaterThan(0);
    }
  });
  // Local only, like the steps above: it reads the local cache's request log and this machine's store; a
  // deployed target's proof is its GitHub runs, whose FlakeHub Cache log is not readable from here.
  await test.step("every path of each output's runtime closure is in the cache and came from it: the push sent it (its record is what the cache received), the cache answered its narinfo, a warm build copied it", async () => {
    const push = pushRecordAgainstCache(measurement);
    const closures = await closuresFromCache(measurement);
    await evidence.json('runtime-closures-from-the-cache', { push, closures });
    expect(push.recorded, "the paths the push says it sent (pushedPaths) against the narinfos the cache received").toEqual(push.received);
    for (const c of closures) {
      expect(c.notPushed, `${c.output}: paths of its runtime closure the push did not send`).toEqual([]);
      expect(c.notCopiedFromCache, `${c.output}: built paths of its runtime closure no warm build copied from ${measurement.cacheUrl} (sources the evaluation adds itself: ${c.sources.join(', ') || 'none'})`).toEqual([]);
      expect(c.narinfoNotAnswered, `${c.output}: built paths of its runtime closure whose narinfo the cache did not answer after the push`).toEqual([]);
    }
    // The closures reach beyond the outputs themselves (node, node_modules, the app): a check of the outputs alone would pass without them.
    expect(closures.some((c) => c.closure.length > 1), 'some output has a runtime closure beyond itself').toBe(true);
  });
  await test.step('the repeat build took less time than the cold one', async () => {
    expect(measurement.warmTotalMs).toBeLessThan(measurement.coldTotalMs);
  });
});
