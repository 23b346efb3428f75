import type { LineWithoutDefect, SeededDefect } from '../../integrity/seeded-defect.ts';

/**
 * Phase 5's seeded defects (npm run integrity -- phase5): small mistakes a person could make in the
 * hypervisor, the metrics publisher or the operations playbook, and the lines that must catch them.
 * Locally the lines run against the podman hypervisor standing in for the deployed host
 * (fixtures/production-test.ts), with moto standing in for CloudWatch.
 */

const line = {
  auth: 'Auth/register/login/recovery flow passes.',
  lifecycleSwap: 'live/dev sandbox lifecycle works and route swap succeeds.',
  rehearsal: 'Rollback rehearsal passes.',
  playbook: 'Record first operational playbook.',
  metrics: 'Runtime metrics snapshot attached.',
  liveAndDev: 'One user can run `live` and `dev` sandboxes concurrently behind hypervisor.',
  swap: 'Hypervisor can route/swap between live/dev for rollback.',
  knownGood: 'Prior known-good config/image can be restored in bounded time.',
} as const;

/** Lines whose tests are being written elsewhere (the smoke suite, headroom and rollback evidence lines): no test here to catch a defect yet. */
const testComingWithTheSmokeSuite = 'its test does not exist in this tree yet: it arrives with the Phase 5 smoke-suite work, which adds its seeded defects with it';

export const linesWithoutDefects: readonly LineWithoutDefect[] = [
  { line: 'Run smoke suite against deployed host.', why: testComingWithTheSmokeSuite },
  { line: 'Validate logs, restart behavior, and disk/memory headroom.', why: testComingWithTheSmokeSuite },
  { line: 'Smoke suite results attached.', why: testComingWithTheSmokeSuite },
  { line: 'Rollback rehearsal output attached.', why: testComingWithTheSmokeSuite },
  { line: 'Confirm rollback from current prod generation to previous known-good.', why: testComingWithTheSmokeSuite },
];

export const defects: readonly SeededDefect[] = [
  {
    id: 'recovery-code-never-spent',
    what: 'a matching recovery code is accepted but never marked used (the guarded update lost in a refactor), so one code works forever',
    caughtBy: [line.auth],
    edits: [{ file: 'hypervisor/auth/recovery-codes.ts', find: '      const redeemed = Number(markUsed.run(Date.now(), matchId).changes) === 1;', replace: '      const redeemed = matchId !== null;' }],
  },
  {
    id: 'restart-keeps-the-running-instance',
    what: 'an admin restart no longer stops the sandbox first ("start handles a running one"), so it reports the same instance as restarted',
    caughtBy: [line.lifecycleSwap],
    edits: [{ file: 'hypervisor/sandboxes/manager.ts', find: "      await this.stopNow(entry, 'restart', 'running');\n", replace: '' }],
  },
  {
    id: 'rollback-to-the-current-release',
    what: 'the previous known-good release is looked up with <= instead of <, so rollback "restores" the release that serves now',
    caughtBy: [line.rehearsal, line.knownGood],
    edits: [{ file: 'hypervisor/routing/releases.ts', find: 'release.id < current.id', replace: 'release.id <= current.id' }],
  },
  {
    id: 'known-good-never-recorded',
    what: "markKnownGood passes its two parameters in the wrong order, so the UPDATE matches no release and nothing ever becomes known-good",
    caughtBy: [line.knownGood],
    edits: [{ file: 'hypervisor/routing/releases.ts', find: "WHERE id = ?').run(new Date().toISOString(), id);", replace: "WHERE id = ?').run(id, new Date().toISOString());" }],
  },
  {
    id: 'swap-leaves-stale-pointers',
    what: 'a switch writes the new pointers to the database but not to the in-memory cache the proxy reads, so / keeps serving the old slot until a restart',
    caughtBy: [line.swap, line.lifecycleSwap],
    edits: [{ file: 'hypervisor/routing/route-pointers.ts', find: '    this.#cache.set(userId, outcome.after);\n', replace: '' }],
  },
  {
    id: 'roles-share-a-data-dir',
    what: "a user's live and dev sandboxes share one data directory (<root>/<user> instead of <root>/<user>/<role>)",
    caughtBy: [line.liveAndDev],
    edits: [{ file: 'hypervisor/sandboxes/data-dir.ts', find: 'path.resolve(dataRoot, parseUserId(key.userId), key.role)', replace: 'path.resolve(dataRoot, parseUserId(key.userId))' }],
  },
  {
    id: 'playbook-sandboxes-without-token',
    what: 'the playbook\'s "sandboxes" command lost its Authorization header (copied from the health check above it), so an operator following it gets 401',
    caughtBy: [line.playbook],
    edits: [{ file: 'docs/operations-playbook.md', find: 'curl -fsS --max-time 10 -H "Authorization: Bearer $CHOIROS_ADMIN_TOKEN" "$CHOIROS_URL/admin/sandboxes"\n', replace: 'curl -fsS --max-time 10 "$CHOIROS_URL/admin/sandboxes"\n' }],
  },
  {
    id: 'metrics-interval-in-seconds',
    what: 'the CloudWatch publisher multiplies its interval (already in ms) by 1000, so it never publishes while the host runs',
    caughtBy: [line.metrics],
    edits: [{ file: 'hypervisor/cloudwatch/publisher.ts', find: '  const timer = setInterval(() => void tick(), config.intervalMs);', replace: '  const timer = setInterval(() => void tick(), config.intervalMs * 1000);' }],
  },
];
