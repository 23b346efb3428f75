import type { SeededDefect } from '../../integrity/seeded-defect.ts';

/**
 * Phase 2's seeded defects (npm run integrity -- phase2): small mistakes a person could make in the
 * flakes workflow, the Nix packaging, the cache experiment (nix/) or the fallback README, and the
 * lines that must catch them. Locally every line is proven from the real nix CLI and a signed
 * binary cache on 127.0.0.1 (fixtures/flakes-proof.ts), so these are what that run can see.
 */

const line = {
  builds: 'CI builds `sandbox`, `desktop`, and `hypervisor` flakes successfully.',
  repeat: 'Repeat build shows improved duration with cache hits.',
  oidc: 'Enable FlakeHub cache in workflow with OIDC permissions.',
  nonBlocking: 'Keep workflow non-blocking initially; then promote to required checks.',
  times: 'Capture baseline and post-cache build times.',
  runLinks: 'Workflow run links attached.',
  hitMiss: 'Cache hit/miss summary attached.',
  durations: 'Build duration comparison attached.',
  fallback: 'Document fallback path if cache integration fails.',
} as const;

export const defects: readonly SeededDefect[] = [
  {
    id: 'oidc-permission-dropped',
    what: "the workflow's permissions lose `id-token: write` (tidied to least privilege), so FlakeHub Cache cannot authenticate",
    caughtBy: [line.oidc],
    edits: [{ file: '.github/workflows/flakes.yml', find: "  # FlakeHub Cache authenticates with the workflow's OIDC token.\n  id-token: write\n", replace: '' }],
  },
  {
    id: 'cache-action-swapped',
    what: 'the FlakeHub Cache step is replaced by the Magic Nix Cache action (a GitHub Actions cache, not FlakeHub)',
    caughtBy: [line.oidc],
    edits: [{ file: '.github/workflows/flakes.yml', find: '      - uses: DeterminateSystems/flakehub-cache-action@main\n', replace: '      - uses: DeterminateSystems/magic-nix-cache-action@main\n' }],
  },
  {
    id: 'workflow-blocking-from-the-start',
    what: 'the build job loses `continue-on-error: true`, so a cache outage blocks every merge before the gate passed',
    caughtBy: [line.nonBlocking, line.fallback],
    edits: [{ file: '.github/workflows/flakes.yml', find: '    continue-on-error: true\n', replace: '' }],
  },
  {
    id: 'promote-repeats-the-check',
    what: 'promote-check appends "build flakes" to the required checks without removing duplicates, so each promotion adds it again',
    caughtBy: [line.nonBlocking],
    edits: [{ file: 'gate-runner/github/required-check.ts', find: 'const contexts = [...new Set([...(existing?.contexts ?? []), flakesCheckName])];', replace: 'const contexts = [...(existing?.contexts ?? []), flakesCheckName];' }],
  },
  {
    id: 'push-unsigned',
    what: 'the push to the cache signs with no key (the secret-key parameter dropped), so Nix refuses every substitute',
    caughtBy: [line.repeat],
    edits: [{ file: 'nix/binary-cache/measure.ts', find: '`${cache.url}?secret-key=${key.secretFile}&compression=zstd`', replace: '`${cache.url}?compression=zstd`' }],
  },
  {
    // Not "push only the outputs, not their closures": nix copy copies a path's closure by itself, so that edit changed nothing (measured: missed).
    id: 'repeat-build-asks-no-cache',
    what: 'the repeat builds copy the cold loop\'s options (no substituter), so they build everything again in their empty store instead of copying from the cache',
    caughtBy: [line.repeat],
    edits: [{ file: 'nix/binary-cache/measure.ts', find: 'substituters: [warmUrl], trustedPublicKeys: trusted, store: stores.warm });', replace: 'substituters: [], trustedPublicKeys: trusted, store: stores.warm });' }],
  },
  {
    id: 'desktop-assets-one-level-down',
    what: 'the desktop package copies the assets directory itself (cp -R dir instead of dir/.), so index.html lands one level too deep',
    caughtBy: [line.builds],
    edits: [{ file: 'nix/packages.nix', find: '    cp -R ${desktopAssets}/. $out/share/choiros-desktop/\n', replace: '    cp -R ${desktopAssets} $out/share/choiros-desktop/\n' }],
  },
  {
    id: 'ci-builds-desktop-for-sandbox',
    what: "the workflow's build loop maps every output but the hypervisor to nix/desktop (a copy-paste in its case), so CI builds the desktop flake twice and never the sandbox",
    caughtBy: [line.builds],
    edits: [{ file: '.github/workflows/flakes.yml', find: 'case "$output" in hypervisor) dir=hypervisor ;; *) dir="nix/$output" ;; esac', replace: 'case "$output" in hypervisor) dir=hypervisor ;; *) dir="nix/desktop" ;; esac' }],
  },
  {
    id: 'summary-misses-are-hits',
    what: "the CI job summary's misses column repeats the hits count (a copy-paste), so a build that built everything reads as all hits",
    caughtBy: [line.hitMiss],
    edits: [{ file: 'nix/ci/job-summary.ts', find: '${counts.hits.length} | ${counts.misses.length}', replace: '${counts.hits.length} | ${counts.hits.length}' }],
  },
  {
    id: 'baseline-asks-default-caches',
    what: 'buildArgs passes `--option substituters` only when there is a substituter, so the "cold" baseline asks the machine\'s default caches',
    caughtBy: [line.times],
    edits: [{ file: 'nix/build.ts', find: "  args.push('--option', 'substituters', (options.substituters ?? []).join(' '));", replace: "  if (options.substituters?.length) args.push('--option', 'substituters', options.substituters.join(' '));" }],
  },
  {
    id: 'build-log-from-stdout',
    what: "a build's transcript is taken from stdout (where --json goes) instead of stderr, so no building/copying line is recorded",
    caughtBy: [line.runLinks, line.hitMiss],
    edits: [{ file: 'nix/build.ts', find: 'return { output, flakeRef, storePath, log: result.stderr,', replace: 'return { output, flakeRef, storePath, log: result.stdout,' }],
  },
  {
    id: 'cold-total-sums-warm',
    what: 'the cold total is summed over the warm figures (a copy-paste of the line below), so the "all three" comparison is wrong',
    caughtBy: [line.durations],
    edits: [{ file: 'nix/binary-cache/measure.ts', find: 'coldTotalMs: results.reduce((s, r) => s + r.cold.durationMs, 0),', replace: 'coldTotalMs: results.reduce((s, r) => s + r.warm.durationMs, 0),' }],
  },
  {
    id: 'narinfo-hits-counted-from-head',
    what: "the cache log counts narinfo hits from HEAD requests only (what some clients send), so Nix's GETs are not counted",
    caughtBy: [line.hitMiss],
    edits: [{ file: 'nix/binary-cache/transcript.ts', find: "  const narinfo = requests.filter((r) => (r.method === 'GET' || r.method === 'HEAD') && r.path.endsWith('.narinfo'));", replace: "  const narinfo = requests.filter((r) => r.method === 'HEAD' && r.path.endsWith('.narinfo'));" }],
  },
  {
    id: 'fallback-readme-keeps-substituters',
    what: "the fallback section's local build loses `--option substituters ''`, so it no longer builds without any cache",
    caughtBy: [line.fallback],
    edits: [{ file: 'nix/README.md', find: "build without any cache: `nix build --option substituters '' ./hypervisor`", replace: 'build without any cache: `nix build ./hypervisor`' }],
  },
  {
    id: 'refusal-message-not-recognised',
    what: "the transcript reader looks for Nix's refusal in other words than Nix prints, so a substitute refused for its signature goes unnoticed: Nix builds it from source and the experiment reports success",
    caughtBy: ['Document fallback path if cache integration fails.'],
    edits: [{ file: 'nix/binary-cache/transcript.ts', find: "is not signed by any of the keys/", replace: "is not signed by a trusted key/" }],
  },
  // Misses of the last never-seen measurement (issue #11), now checked by the hit/miss line.
  {
    id: 'summary-from-of-the-previous-row',
    what: "the job summary's \"from\" column is computed after its row is written, so each row names the caches of the row before it (a hit credited to the wrong output)",
    caughtBy: [line.hitMiss],
    edits: [
      { file: 'nix/ci/job-summary.ts', find: '  const rows: string[] = [];\n  for (const output of flakeOutputs) {', replace: '  const rows: string[] = [];\n  let sources: string[] = [];\n  for (const output of flakeOutputs) {' },
      {
        file: 'nix/ci/job-summary.ts',
        find: "    const sources = [...new Set(readFileSync(logFile, 'utf8').match(/from '([^']+)'/g) ?? [])].map((s) => s.slice(6, -1));\n    rows.push(`| ${output} | ${Number.isFinite(ms) ? `${(ms / 1000).toFixed(1)} s` : 'failed'} | ${counts.hits.length} | ${counts.misses.length} | ${sources.join(', ') || '-'} |`);",
        replace: "    rows.push(`| ${output} | ${Number.isFinite(ms) ? `${(ms / 1000).toFixed(1)} s` : 'failed'} | ${counts.hits.length} | ${counts.misses.length} | ${sources.join(', ') || '-'} |`);\n    sources = [...new Set(readFileSync(logFile, 'utf8').match(/from '([^']+)'/g) ?? [])].map((s) => s.slice(6, -1));",
      },
    ],
  },
  {
    id: 'build-step-times-in-seconds',
    what: "the workflow's build step takes its timestamps with date +%s (seconds) but writes them to <output>.ms, so the job summary shows every build as 0.0 s",
    caughtBy: [line.hitMiss],
    edits: [
      {
        file: '.github/workflows/flakes.yml',
        find: '            started=$(date +%s%3N)\n',
        replace: '            started=$(date +%s)\n',
      },
      {
        file: '.github/workflows/flakes.yml',
        find: '            echo $(( $(date +%s%3N) - started )) > "build-logs/$output.ms"\n',
        replace: '            echo $(( $(date +%s) - started )) > "build-logs/$output.ms"\n',
      },
    ],
  },
  {
    // A chroot build (the cold builds' empty store) has no /lib: node must start through the loader the set ships.
    id: 'offline-npm-runs-node-without-its-libraries',
    what: "the offline package set's buildNodeModules starts node directly, as on the host, instead of through its loader and libraries, so npm ci cannot run in the empty store's chroot build",
    caughtBy: [line.builds],
    edits: [{ file: 'nix/offline/flake-text.ts', find: '$TMPDIR/libraries/${s.loader} --library-path $TMPDIR/libraries \\${nodejs}/bin/node', replace: '\\${nodejs}/bin/node' }],
  },
  {
    // A miss of the fourth never-seen measurement (issue #11): the summary was checked against the logs, never the logs against Nix.
    id: 'build-log-tees-stdout',
    what: 'the build step tees stdout instead of stderr into build-logs/<output>.log (the `2>&1` before `| tee …` lost), so every log is empty and the job summary shows 0 hits and 0 misses',
    caughtBy: [line.hitMiss],
    edits: [{ file: '.github/workflows/flakes.yml', find: '; } 2>&1 | tee "build-logs/$output.log"', replace: '; } | tee "build-logs/$output.log"' }],
  },
  // Misses of the sixth never-seen measurement (issue #11): the same properties, broken in other places.
  {
    // u6-push-outputs-without-closure named only the outputs to nix copy, which copies their closures anyway: only the push's record lied.
    // Here the closure really is not fetched from the cache: the warm store already holds node when the warm builds start.
    id: 'warm-store-seeded-with-node',
    what: 'the cache experiment seeds the warm store with the Node runtime from the cold store before the warm builds ("every runner has node"), so the repeat build never fetches that part of the closure from the cache and its hits and time leave it out',
    caughtBy: [line.repeat],
    edits: [
      {
        file: 'nix/binary-cache/measure.ts',
        find: '    await checkCacheReachable(warmUrl);\n',
        replace: "    await checkCacheReachable(warmUrl);\n    await runNix(['copy', '--from', stores.cold, '--to', stores.warm, '--no-check-sigs', ...pushedPaths.filter((p) => p.includes('-nodejs-'))]);\n",
      },
    ],
  },
  {
    // u6-summary-missing-duration-zero defaulted the summary's reading of a missing .ms to 0; here the build step writes the 0.
    id: 'build-step-writes-duration-before-building',
    what: 'the build step writes a placeholder 0 to build-logs/<output>.ms before each nix build ("so the summary always has a figure"), so a build that fails is shown as 0.0 s, like an instant cached build',
    caughtBy: [line.hitMiss],
    edits: [
      {
        file: '.github/workflows/flakes.yml',
        find: '            started=$(date +%s%3N)\n',
        replace: '            echo 0 > "build-logs/$output.ms"\n            started=$(date +%s%3N)\n',
      },
    ],
  },
  {
    id: 'summary-step-only-on-success',
    what: "the job-summary step's condition is success(), so a run where one flake fails to build writes no hit/miss summary at all, the run that needs it most",
    caughtBy: [line.hitMiss],
    edits: [{ file: '.github/workflows/flakes.yml', find: '        if: always()\n', replace: '        if: success()\n' }],
  },
  {
    id: 'pull-requests-only-when-nix-changes',
    what: 'the pull_request trigger gets a paths filter (nix/**, "only build when the flakes change"): a pull request touching anything else gets no "build flakes" run, and once the check is required it waits forever',
    caughtBy: [line.nonBlocking, line.runLinks],
    edits: [{ file: '.github/workflows/flakes.yml', find: '    branches: [main]\n  pull_request:\n', replace: "    branches: [main]\n  pull_request:\n    paths: ['nix/**', 'hypervisor/**']\n" }],
  },
  {
    id: 'build-job-skipped-for-pull-requests',
    what: "the build job is given `if: github.event_name != 'pull_request'` (to save runner minutes): the workflow still triggers on pull requests, but the required check's job never runs for one",
    caughtBy: [line.nonBlocking, line.runLinks],
    edits: [{ file: '.github/workflows/flakes.yml', find: '    continue-on-error: true\n', replace: "    continue-on-error: true\n    if: github.event_name != 'pull_request'\n" }],
  },
  {
    id: 'summary-on-runner-default-node',
    what: "the setup-node step is dropped (\"the runner has Node\"): the job-summary step runs `node nix/ci/job-summary.ts` on ubuntu-24.04's preinstalled Node 20, which cannot run TypeScript",
    caughtBy: [line.hitMiss, line.durations],
    edits: [{ file: '.github/workflows/flakes.yml', find: '      - uses: actions/setup-node@v4\n        with:\n          node-version: 24\n', replace: '' }],
  },
  {
    id: 'fallback-names-the-job-id',
    what: "the fallback docs name the job's id (`build`) as the required check to remove; GitHub names the check by the job's name, \"build flakes\", so the admin finds no such check",
    caughtBy: [line.fallback],
    edits: [{ file: 'nix/README.md', find: 'an admin removes `build flakes` from the', replace: "an admin removes the `build` job's check from the" }],
  },
  // The promise audit of issue #11: properties no line asked about before.
  {
    id: 'build-job-permissions-replace-workflows',
    what: "the build job is given its own least-privilege `permissions: contents: read`; a job's permissions replace the workflow's, so the job's token has no id-token and FlakeHub Cache cannot authenticate",
    caughtBy: [line.oidc],
    edits: [{ file: '.github/workflows/flakes.yml', find: '    continue-on-error: true\n', replace: '    continue-on-error: true\n    permissions:\n      contents: read\n' }],
  },
  {
    id: 'cache-step-before-nix-installer',
    what: 'the FlakeHub Cache step is moved above the Nix installer (steps reordered), so it runs before there is a Nix to configure and the builds never use the cache',
    caughtBy: [line.oidc],
    edits: [
      {
        file: '.github/workflows/flakes.yml',
        find: '      - uses: DeterminateSystems/nix-installer-action@main\n      - uses: DeterminateSystems/flakehub-cache-action@main\n',
        replace: '      - uses: DeterminateSystems/flakehub-cache-action@main\n      - uses: DeterminateSystems/nix-installer-action@main\n',
      },
    ],
  },
  {
    id: 'build-job-without-checkout',
    what: 'the actions/checkout step is dropped from the build job ("nix builds from the flake reference"), so `nix build ./hypervisor` runs in an empty workspace and every build fails on GitHub',
    caughtBy: [line.builds],
    edits: [{ file: '.github/workflows/flakes.yml', find: '      - uses: actions/checkout@v4\n', replace: '' }],
  },
  {
    id: 'promote-put-only-status-checks',
    what: 'promote-check protects an unprotected branch with a PUT of required_status_checks alone (the null enforce_admins, reviews and restrictions "tidied" away); GitHub refuses that body with 422, so the check can never be made required on a branch that had no protection',
    caughtBy: [line.nonBlocking],
    edits: [{ file: 'gate-runner/github/required-check.ts', find: "{ required_status_checks: { strict: true, contexts }, enforce_admins: null, required_pull_request_reviews: null, restrictions: null }", replace: '{ required_status_checks: { strict: true, contexts } }' }],
  },
  {
    id: 'given-cache-checked-only-after-the-builds',
    what: 'measureCache no longer checks a cache given from outside (warmCacheUrl) before building: with that cache down it spends the whole cold build and push first, instead of naming the unreachable cache at once',
    caughtBy: [line.fallback],
    edits: [{ file: 'nix/binary-cache/measure.ts', find: '    if (options.warmCacheUrl) await checkCacheReachable(options.warmCacheUrl);\n', replace: '' }],
  },
  {
    id: 'package-ships-the-tests',
    what: "the package's source filter loses its `.test.ts` clause, so every vitest file of hypervisor/ is shipped in the app package the hosts run",
    caughtBy: [line.builds],
    edits: [{ file: 'nix/packages.nix', find: ' && !(hasSuffix ".test.ts" rel)', replace: '' }],
  },
  {
    id: 'remote-hits-from-any-cache',
    what: "reading a GitHub run, the hits are counted from every cache the log names (the FlakeHub URL filter dropped), so paths copied from cache.nixos.org count as FlakeHub Cache hits and a run FlakeHub never served reads as a cached one",
    caughtBy: [line.runLinks],
    edits: [{ file: 'gate-runner/github/flakes-runs.ts', find: 'counts: countTranscript(log, flakeHubCacheUrl),', replace: 'counts: countTranscript(log),' }],
  },
  {
    id: 'toplevel-sandbox-is-the-desktop',
    what: "copy-paste in the top-level flake.nix: packages.<system>.sandbox is the desktop flake's package, so `nix build .#sandbox` yields static assets and no bin/choiros-sandbox",
    caughtBy: [line.builds],
    edits: [{ file: 'flake.nix', find: '        sandbox = sandbox.packages.${system}.default;\n', replace: '        sandbox = desktop.packages.${system}.default;\n' }],
  },
  {
    id: 'promotion-reads-the-oldest-phase2-run',
    what: 'the ledger sorts the Phase 2 runs newest first, so "the latest run" promote-check asks about is the oldest: a target whose checks regressed since its first pass still gets "build flakes" made required',
    caughtBy: [line.nonBlocking],
    edits: [{ file: 'gate-runner/ledger.ts', find: '.sort((a, b) => a.endedAt.localeCompare(b.endedAt));\n  const latest = runs.at(-1);', replace: '.sort((a, b) => b.endedAt.localeCompare(a.endedAt));\n  const latest = runs.at(-1);' }],
  },
  // round-9 miss: a wrapper that does not pass the stop signal on
  {
    id: 'sandbox-wrapper-runs-node-as-child',
    what: "bin/choiros-sandbox runs node as the wrapper shell's child (its exec dropped): a SIGTERM, what podman and systemd send first, ends only the shell, and the sandbox keeps running orphaned on its port without its graceful stop",
    caughtBy: [line.builds],
    edits: [{ file: 'nix/packages.nix', find: '    exec ${node} ${app}/lib/choiros/hypervisor/workload/main.ts', replace: '    ${node} ${app}/lib/choiros/hypervisor/workload/main.ts' }],
  },
  {
    id: 'build-step-without-pipefail',
    what: "the build step's `shell: bash` is dropped (it looked redundant on a Linux runner): GitHub then runs it with `bash -e`, without pipefail, so a nix build that fails inside `| tee` passes the step, which goes on to time and summarise builds that never happened",
    caughtBy: [line.hitMiss],
    edits: [{ file: '.github/workflows/flakes.yml', find: '        shell: bash\n', replace: '' }],
  },
  // a10p23: a remote run's fields read from the wrong place (mutation walk of gate-runner/github/flakes-runs.ts)
  {
    id: 'remote-job-conclusion-from-the-run',
    what: 'the "build flakes" job\'s conclusion is read from its run (copy-paste from the line above): the job is continue-on-error, so GitHub concludes the run success though the builds failed, and a remote target whose flakes do not build passes the builds line',
    caughtBy: [line.runLinks],
    edits: [{ file: 'gate-runner/github/flakes-runs.ts', find: '    jobConclusion: job.conclusion,', replace: '    jobConclusion: run.conclusion,' }],
  },
  {
    id: 'remote-job-time-from-the-build-step',
    what: 'the job\'s duration is taken from its build step\'s timestamps (copy-paste from the line above), so the remote build times report the build step twice and the job time leaves out installing Nix and the cache',
    caughtBy: [line.runLinks],
    edits: [{ file: 'gate-runner/github/flakes-runs.ts', find: '    jobMs: durationMs(job.started_at, job.completed_at),', replace: '    jobMs: durationMs(step?.started_at, step?.completed_at),' }],
  },
  {
    id: 'remote-step-conclusion-from-the-job',
    what: 'the build step\'s conclusion is read from its job: a run whose builds passed but whose summary step failed reads as a failed build',
    caughtBy: [line.runLinks],
    edits: [{ file: 'gate-runner/github/flakes-runs.ts', find: '    buildStepConclusion: step?.conclusion,', replace: '    buildStepConclusion: job.conclusion,' }],
  },
  // a10p23: the fallback's local commands as written (nix/README.md step 3)
  {
    id: 'fallback-builds-nix-hypervisor',
    what: 'the fallback\'s cache-free build names ./nix/hypervisor (where the sandbox and desktop flakes live) while the hypervisor\'s flake is ./hypervisor: during an outage the documented command fails with "path does not exist"',
    caughtBy: [line.fallback],
    edits: [{ file: 'nix/README.md', find: "`nix build --option substituters '' ./hypervisor`", replace: "`nix build --option substituters '' ./nix/hypervisor`" }],
  },
  {
    id: 'fallback-names-another-switch',
    what: 'the fallback names the package-set switch CHOIROS_PACKAGE_SET=offline, a variable nix/build.ts never reads: an operator who sets it gets the reachability probe\'s choice, a nixpkgs build that waits on an unreachable GitHub',
    caughtBy: [line.fallback],
    edits: [{ file: 'nix/README.md', find: 'or `CHOIROS_NIXPKGS=offline` with', replace: 'or `CHOIROS_PACKAGE_SET=offline` with' }],
  },
  // a10p23: what a remote Phase 2 reads when only a repository is named
  {
    id: 'target-github-workflow-default-misspelt',
    what: 'a target\'s github section defaults its workflow to "flake.yml" (one letter short): a remote target naming only its repository reads a workflow GitHub does not have, and its Phase 2 fails with a 404 instead of reading the flakes runs',
    caughtBy: [line.runLinks],
    edits: [{ file: 'gate-runner/target-description.ts', find: "'a workflow file name under .github/workflows/, e.g. flakes.yml', 'flakes.yml'),", replace: "'a workflow file name under .github/workflows/, e.g. flakes.yml', 'flake.yml')," }],
  },
  {
    id: 'env-github-branch-master',
    what: 'GATE_GITHUB_REPOSITORY without GATE_GITHUB_BRANCH reads runs on "master", a branch flakes.yml never runs on push: the ad-hoc remote Phase 2 finds no completed run',
    caughtBy: [line.runLinks],
    edits: [{ file: 'gate-runner/github/connection.ts', find: "branch: env.GATE_GITHUB_BRANCH?.trim() || 'main',", replace: "branch: env.GATE_GITHUB_BRANCH?.trim() || 'master'," }],
  },
  // a10p23: the hypervisor package's program is also the operator's CLI
  {
    id: 'hypervisor-wrapper-drops-arguments',
    what: 'bin/choiros-hypervisor runs main.ts without "$@" (it only serves, after all): on a host `choiros-hypervisor rollback USER` or `pointers` starts a second server (or fails on the taken port) instead of running the operator\'s command',
    caughtBy: [line.builds],
    edits: [{ file: 'nix/packages.nix', find: '    exec ${node} ${app}/lib/choiros/hypervisor/main.ts "\\$@"', replace: '    exec ${node} ${app}/lib/choiros/hypervisor/main.ts' }],
  },
];
