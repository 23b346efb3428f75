import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test, expect } from '../../fixtures/flakes-proof.ts';
import { fromRoot } from '../../hypervisor/paths.ts';
import { buildFlakeOutput, onDisk } from '../../nix/build.ts';
import { CacheSignatureRefusedError, CacheUnreachableError } from '../../nix/binary-cache/errors.ts';
import { makeExperimentDir } from '../../nix/binary-cache/experiment-dir.ts';
import { measureCache } from '../../nix/binary-cache/measure.ts';
import { generateSigningKey } from '../../nix/binary-cache/signing-key.ts';
import { countTranscript } from '../../nix/binary-cache/transcript.ts';
import { removeStore } from '../../nix/binary-cache/store-paths.ts';
import { readFlakesWorkflow } from '../../nix/ci/flakes-workflow.ts';
import { checksTheFallbackLifts } from '../../fixtures/fallback-check-name.ts';
import { documentedBuilds, documentedSwitches } from '../../fixtures/fallback-commands.ts';
import { flakesCheckName } from '../../gate-runner/github/required-check.ts';

const unreachableCache = 'http://127.0.0.1:9';

test('Document fallback path if cache integration fails.', async ({ flakesSource, evidence }) => {
  const readme = readFileSync(fromRoot('nix', 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## If the cache integration fails'));
  await evidence.text('fallback.md', section, 'text/markdown');

  await test.step('nix/README.md documents the fallback: build from source, non-blocking CI, the step to remove, the check to lift', async () => {
    expect(readme).toContain('## If the cache integration fails (fallback)');
    for (const needed of ["--option substituters ''", 'continue-on-error: true', 'DeterminateSystems/flakehub-cache-action', 'npm run promote-check']) expect(section).toContain(needed);
    expect(readFlakesWorkflow().continueOnError, 'the workflow is still non-blocking, as the fallback says').toBe(true);
  });
  await test.step(`the check the fallback tells an admin to remove is the one promote-check makes required, named as GitHub shows it: the build job's name`, () => {
    const workflow = readFlakesWorkflow();
    expect(checksTheFallbackLifts(section), 'the required check named in the fallback step about required checks').toEqual([flakesCheckName]);
    expect(workflow.buildJobName, `${workflow.file}: the build job's name, which GitHub gives its check`).toBe(flakesCheckName);
  });

  await test.step("the fallback's local commands work as written: each `nix build` names a flake of this checkout, and each setting it names (CHOIROS_NIXPKGS=offline) is a variable nix/build.ts reads, choosing the package set it says", async () => {
    const builds = documentedBuilds(section);
    const switches = await documentedSwitches(section);
    await evidence.json('fallback-commands', { builds, switches });
    expect(builds.length, 'nix build commands (naming a flake) in the fallback').toBeGreaterThan(0);
    expect(builds.filter((b) => b.problem).map((b) => `${b.command}: ${b.problem ?? ''}`), 'fallback builds of a flake this checkout does not have').toEqual([]);
    expect(switches.length, 'NAME=value settings in the fallback').toBeGreaterThan(0);
    for (const s of switches) {
      expect(s.variableRead, `${s.setting}: nix/build.ts reads ${s.setting.split('=')[0] ?? ''} (it refuses a value it does not know)`).toBe(true);
      expect(s.chosen, `the package set nix/build.ts chooses with ${s.setting}`).toBe(s.setting.split('=')[1]);
    }
  });

  if (flakesSource.kind === 'remote') {
    await evidence.provenOn({ place: `this checkout's nix/README.md and flakes.yml, for GitHub repository ${flakesSource.client.repository}` });
    return;
  }
  await evidence.provenOn({ place: 'the real nix CLI on this machine, with the cache unreachable', standIn: 'an unreachable loopback port stood in for a FlakeHub Cache outage' });
  await test.step('with the cache unreachable, the desktop flake still builds, from source, in an empty store', async () => {
    const store = path.join(mkdtempSync(path.join(tmpdir(), 'choiros-fallback-')), 'store');
    try {
      const build = await buildFlakeOutput('desktop', { substituters: [unreachableCache], store });
      await evidence.command('build-with-cache-down.txt', build.command.join(' '), build.log);
      expect(build.log).toContain(unreachableCache);
      expect(countTranscript(build.log).misses.some((drv) => drv.includes('-choiros-desktop-')), 'the desktop was built from source').toBe(true);
      expect(readFileSync(onDisk(build, 'share', 'choiros-desktop', 'index.html'), 'utf8')).toContain('<html');
    } finally {
      removeStore(path.dirname(store));
    }
  });
  await test.step('a cache that does not answer is named, with its URL and the error, before anything is built: the measurement stops rather than time builds from source', async () => {
    const { dir: workDir } = makeExperimentDir('choiros-fallback-unreachable-');
    const experiment = path.join(workDir, 'experiment');
    try {
      let pushed = false;
      const stopped = await measureCache({ workDir: experiment, outputs: ['desktop'], warmCacheUrl: unreachableCache, afterPush: () => void (pushed = true) }).then(
        () => undefined,
        (error: unknown) => error,
      );
      await evidence.text('unreachable-cache-named.txt', String(stopped));
      expect(stopped, `the measurement with ${unreachableCache} as its cache`).toBeInstanceOf(CacheUnreachableError);
      expect((stopped as Error).message, 'names the cache and why it cannot be reached').toMatch(new RegExp(`${unreachableCache.replace(/[.:/]/g, '\\$&')} cannot be reached \\(ECONNREFUSED\\)`));
      // The absence of a store proves nothing here (measureCache removes both stores whatever happens):
      // what shows a build ran is the push that follows it, so the unfired afterPush is the proof.
      expect(pushed, 'the experiment built and pushed before it checked the cache').toBe(false);
    } finally {
      removeStore(path.join(experiment, 'cold-store'));
      removeStore(path.join(experiment, 'warm-store'));
      rmSync(workDir, { recursive: true, force: true });
    }
  });
  await test.step('a substitute signed with a key this machine does not trust is refused by name, and the measurement stops rather than report a success', async () => {
    const { dir: workDir } = makeExperimentDir('choiros-fallback-untrusted-');
    try {
      const stranger = await generateSigningKey(path.join(workDir, 'stranger'), 'someone-elses-cache-1');
      const refused = await measureCache({ workDir: path.join(workDir, 'experiment'), outputs: ['desktop'], trustedPublicKey: stranger.publicKey }).then(
        () => undefined,
        (error: unknown) => error,
      );
      await evidence.text('untrusted-substitute-refused.txt', String(refused));
      expect(refused, 'the measurement with only a stranger\'s key trusted').toBeInstanceOf(CacheSignatureRefusedError);
      // The desktop's closure is one path: one refusal must be enough to stop, and it is named by its narinfo.
      expect((refused as CacheSignatureRefusedError).narinfos).toEqual([expect.stringMatching(/^[0-9a-z]{32}\.narinfo$/)]);
    } finally {
      rmSync(workDir, { recursive: true, force: true });
    }
  });
});
