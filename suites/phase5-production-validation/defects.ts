import type { SeededDefect } from '../../integrity/seeded-defect.ts';

/**
 * Phase 5's seeded defects (npm run integrity -- phase5): small mistakes a person could make in the
 * hypervisor, the deploy CLI and its host readings, the metrics publisher or the operations playbook,
 * and the lines that must catch them. Locally the web lines run against the Phase 4 host stand-in through
 * Caddy's TLS, as do the host lines (fixtures/production-test.ts, web-target.ts, production-host.ts);
 * the runtime metrics line runs against the podman hypervisor, with moto standing in for CloudWatch.
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
  smoke: 'Run smoke suite against deployed host.',
  smokeResults: 'Smoke suite results attached.',
  hostHealth: 'Validate logs, restart behavior, and disk/memory headroom.',
  rehearsalOutput: 'Rollback rehearsal output attached.',
  generationRollback: 'Confirm rollback from current prod generation to previous known-good.',
} as const;

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
  {
    id: 'generation-rollback-not-activated',
    what: 'deploy rollback only flips the system profile (nix-env --rollback "is" the rollback) and no longer runs the previous generation\'s switch-to-configuration, so the host keeps serving the current generation',
    caughtBy: [line.generationRollback],
    edits: [{ file: 'deploy/converge.ts', find: "    await this.#host.run('activate the previous generation', `${this.#deploy.profile}/bin/switch-to-configuration switch`);\n", replace: '' }],
  },
  {
    id: 'routine-stop-logged-as-error',
    what: 'the hypervisor logs its SIGTERM stop at error level (so stops "stand out"), so every systemctl restart or deploy puts an error line in the journal',
    caughtBy: [line.hostHealth],
    edits: [{ file: 'hypervisor/cli/serve.ts', find: "    log.info({ event: 'hypervisor.stopping', signal }", replace: "    log.error({ event: 'hypervisor.stopping', signal }" }],
  },
  {
    id: 'restart-resumes-stopped-sandboxes',
    what: 'after a hypervisor restart, reconcile starts every recorded sandbox again ("bring everything back"), including those recorded as stopped',
    caughtBy: [line.hostHealth],
    edits: [{ file: 'hypervisor/sandboxes/reconcile.ts', find: "    if (record.desired === 'running') steps.resume(record);\n    else steps.settle(record);\n", replace: '    steps.resume(record);\n' }],
  },
  {
    id: 'disk-headroom-as-a-ratio',
    what: 'the df reading returns available/size as a ratio (0.8) where a percent is meant, so the headroom check compares 0.8 with a 20% threshold',
    caughtBy: [line.hostHealth],
    edits: [{ file: 'deploy/host-readings.ts', find: 'freePercent: round((availableKiB / sizeKiB) * 100)', replace: 'freePercent: round(availableKiB / sizeKiB)' }],
  },
  {
    id: 'host-origin-without-port',
    what: "the host generation's WebAuthn origin drops the HTTPS port (https://NAME instead of https://NAME:PORT), so on a host served on a non-default port passkeys and same-origin checks fail",
    caughtBy: [line.smoke, line.smokeResults],
    edits: [{ file: 'deploy/generation.ts', find: "const origin = `https://${routing.hostName}${routing.httpsPort === 443 ? '' : `:${routing.httpsPort}`}`;", replace: 'const origin = `https://${routing.hostName}`;' }],
  },
  {
    id: 'rollback-reads-the-standby-release',
    what: "rollback looks up the release of the standby (dev) slot as the one main serves, so it picks the known-good release before the wrong one (or finds none)",
    caughtBy: [line.rehearsalOutput],
    edits: [{ file: 'hypervisor/routing/rollback.ts', find: 'const serving = ctx.slotReleases.get(userId, pointers.main);', replace: 'const serving = ctx.slotReleases.get(userId, pointers.dev);' }],
  },
  // The lines' checks for the property behind the six defects an unseen-defect measurement found
  // missed (issue #11): each entry below is another mistake against the same property, not that defect.
  {
    id: 'cold-rollback-starts-the-serving-release',
    what: 'a cold rollback starts the release main serves now (from) in the standby slot instead of the known-good one, a mix-up of two release variables; the warm path never starts anything, so only a cold rollback shows it',
    caughtBy: [line.rehearsal, line.rehearsalOutput],
    edits: [{ file: 'hypervisor/routing/rollback.ts', find: '          await ctx.slots.start(standby, releaseSpec(release));', replace: '          await ctx.slots.start(standby, releaseSpec(from ?? release));' }],
  },
  {
    id: 'recovery-session-opens-the-proxy',
    what: 'the proxy takes any session as its user, the recovery session included ("a session is a session"), so a recovery code opens the sandbox before a new passkey is registered',
    caughtBy: [line.auth],
    edits: [{ file: 'hypervisor/auth/auth.ts', find: "      return session?.kind === 'user' ? { userId: session.userId, username: session.username } : null;", replace: '      return session ? { userId: session.userId, username: session.username } : null;' }],
  },
  {
    id: 'journal-pino-fatal-only',
    what: 'the journal check counts pino levels above error (> 50), so only fatal lines count and the hypervisor\'s error lines pass unseen',
    caughtBy: [line.hostHealth],
    edits: [{ file: 'deploy/host-readings.ts', find: '(entry.level !== undefined && entry.level >= pinoError)', replace: '(entry.level !== undefined && entry.level > pinoError)' }],
  },
  {
    id: 'disk-headroom-counts-used-space',
    what: 'the df reading takes size minus available over size, the used share, as the free percent; on a host more than half free it still clears the threshold',
    caughtBy: [line.hostHealth],
    edits: [{ file: 'deploy/host-readings.ts', find: 'freePercent: round((availableKiB / sizeKiB) * 100)', replace: 'freePercent: round(((sizeKiB - availableKiB) / sizeKiB) * 100)' }],
  },
  {
    id: 'previous-generation-takes-the-last',
    what: 'the previous generation is the last of the older ones, a list sorted newest first, so "previous" is the oldest; with only two generations the two are the same',
    caughtBy: [line.generationRollback],
    edits: [{ file: 'deploy/host-readings.ts', find: '  return { current, previous: older[0] };', replace: '  return { current, previous: older[older.length - 1] };' }],
  },
  {
    id: 'playbook-logs-by-journal-priority',
    what: 'the playbook\'s logs command narrows to --priority err, but the hypervisor writes its JSON lines to stdout (journal priority info), so it never shows an error line',
    caughtBy: [line.playbook],
    edits: [{ file: 'docs/operations-playbook.md', find: '--no-pager -o cat | grep', replace: '--no-pager -o cat --priority err | grep' }],
  },
  {
    id: 'requests-published-as-running-total',
    what: 'the proxied-request figure is published as the counter itself, not what happened since the last reading, so CloudWatch adds up running totals',
    caughtBy: [line.metrics],
    edits: [{ file: 'hypervisor/cloudwatch/figures.ts', find: "{ name: 'ProxiedRequests', value: now.requests - since.requests }", replace: "{ name: 'ProxiedRequests', value: now.requests }" }],
  },
  // A miss of the last never-seen measurement (issue #11), now cross-checked with the host's own profile link.
  {
    id: 'generation-number-from-the-date-column',
    what: "the deploy CLI reads the current generation's number from the second column of nix-env --list-generations (the date), so it reports generation NaN after a switch or rollback",
    caughtBy: [line.generationRollback],
    edits: [{ file: 'deploy/converge.ts', find: 'return current ? Number(current.trim().split(/\\s+/)[0]) : undefined;', replace: 'return current ? Number(current.trim().split(/\\s+/)[1]) : undefined;' }],
  },
  // A miss of the seventh never-seen round (issue #11): the rollback said it reached the generation it left.
  // The same property broken elsewhere: the profile is read for the report before the switch, not after it.
  {
    id: 'rollback-reads-active-before-switching',
    what: 'the host rollback reads the generation it will report as active before `nix-env --switch-generation` runs, so it reports (and returns) the generation it is leaving as the one it reached, while the host is on another',
    caughtBy: [line.generationRollback],
    edits: [
      { file: 'deploy/converge.ts', find: '    const from = await this.activeGeneration();\n', replace: "    const from = await this.activeGeneration();\n    const active = (await this.activeGeneration()) ?? '';\n" },
      { file: 'deploy/converge.ts', find: "    const active = (await this.activeGeneration()) ?? '';\n    const generation = await this.generationNumber();\n    if (!reading.healthy) throw new HostCommandError('rollback'", replace: "    const generation = await this.generationNumber();\n    if (!reading.healthy) throw new HostCommandError('rollback'" },
    ],
  },
  {
    id: 'recovery-session-lives-a-week',
    what: "a recovery session gets a user session's lifetime (7 days instead of 10 minutes), so a recovery cookie someone copies stays good for a week",
    caughtBy: [line.auth],
    edits: [{ file: 'hypervisor/auth/sessions.ts', find: '  recovery: 10 * 60_000,', replace: '  recovery: 7 * 24 * 3600_000,' }],
  },
  {
    id: 'playbook-rollback-posts-swap',
    what: "the playbook's rollback command posts to /swap (the command above it in an earlier draft): it exits 0, but the user's main route goes to whatever the standby slot holds, not the previous known-good release",
    caughtBy: [line.playbook],
    edits: [{ file: 'docs/operations-playbook.md', find: '"$CHOIROS_URL/admin/sandboxes/$CHOIROS_USER/rollback"', replace: '"$CHOIROS_URL/admin/sandboxes/$CHOIROS_USER/swap"' }],
  },
  {
    id: 'session-cookie-secure-only-on-direct-tls',
    what: "the session cookie is marked Secure only when the hypervisor's own socket is TLS, so behind Caddy (which terminates TLS) it never is: the upstream flaw the contract names",
    caughtBy: [line.auth],
    edits: [{ file: 'hypervisor/auth/context.ts', find: "  res.setHeader('set-cookie', sessionCookie(id, { secure: securedByTls(context.settings),", replace: "  res.setHeader('set-cookie', sessionCookie(id, { secure: (req.socket as { encrypted?: boolean }).encrypted === true," }],
  },
  {
    // A miss of the fourth never-seen measurement (issue #11): published counters were checked against the hypervisor's own count, never that count against the requests made.
    id: 'request-counts-never-reset',
    what: "the proxy's plain request counts are handed to prom-client at every collection but no longer reset, so each /metrics scrape adds the whole history again",
    caughtBy: [line.metrics],
    edits: [{ file: 'hypervisor/proxy/metrics.ts', find: '      unreported[role].fill(0);\n', replace: '' }],
  },
  {
    id: 'playbook-restart-only-checks-status',
    what: "the playbook's restart command asks systemctl status instead of restarting, so an operator following it restarts nothing and is told all is well",
    caughtBy: [line.playbook],
    edits: [{ file: 'docs/operations-playbook.md', find: 'systemctl restart "${CHOIROS_UNIT:-choiros-hypervisor}"\n', replace: 'systemctl status --no-pager "${CHOIROS_UNIT:-choiros-hypervisor}" >/dev/null\n' }],
  },
  {
    id: 'p99-takes-the-median',
    what: "the latency window's p99 picks the middle sample (nearest rank of 50%), so one slow request among quick ones never shows in the published RequestLatencyP99",
    caughtBy: [line.metrics],
    edits: [{ file: 'hypervisor/cloudwatch/latency.ts', find: 'Math.ceil(samples.length * 0.99) - 1', replace: 'Math.ceil(samples.length * 0.5) - 1' }],
  },
  {
    id: 'p99-latency-unit-seconds',
    what: "RequestLatencyP99 is published with the unit Seconds while its value is in milliseconds (the README's unit): CloudWatch alarms and dashboards read a 40 ms p99 as 40 s, and a read by the documented unit finds no latency at all",
    caughtBy: [line.metrics],
    edits: [{ file: 'hypervisor/cloudwatch/figure-names.ts', find: "  RequestLatencyP99: 'Milliseconds',", replace: "  RequestLatencyP99: 'Seconds'," }],
  },
  {
    id: 'disk-headroom-over-free-blocks',
    what: "the hypervisor's disk headroom divides the available blocks by the free ones instead of all blocks, so the published share is too high wherever anything is stored (and 100% where nothing is reserved)",
    caughtBy: [line.metrics],
    edits: [{ file: 'hypervisor/cloudwatch/headroom.ts', find: '(fs.bavail / fs.blocks) * 100', replace: '(fs.bavail / fs.bfree) * 100' }],
  },
  {
    id: 'playbook-gate-users-host-prefix',
    what: "the playbook's gate-users listing asks ?prefix=gate-host- (the host line's users only), so an interrupted run's other gate users are never found for removal",
    caughtBy: [line.playbook],
    edits: [{ file: 'docs/operations-playbook.md', find: '/admin/users?prefix=gate-"', replace: '/admin/users?prefix=gate-host-"' }],
  },
  {
    id: 'recovery-account-limit-loosened',
    what: 'the per-account recovery limit is raised from 5 to 50 failures per 15 minutes ("support calls"), so one account\'s codes can be guessed 50 times before any refusal',
    caughtBy: [line.auth],
    edits: [{ file: 'hypervisor/auth/auth.ts', find: '  recoveryByAccount: { max: 5, windowMs: fifteenMinutes },', replace: '  recoveryByAccount: { max: 50, windowMs: fifteenMinutes },' }],
  },
  {
    id: 'recovery-budget-per-spelling',
    what: "the per-account recovery budget is keyed by the username as typed (trimmed, not lower-cased), so guessing one account's codes under another case of its name starts a fresh budget each time",
    caughtBy: [line.auth],
    edits: [{ file: 'hypervisor/auth/recovery.ts', find: 'const account = `account:${username.toLowerCase()}`;', replace: 'const account = `account:${username.trim()}`;' }],
  },
  // Misses of the sixth never-seen measurement (issue #11): the published restarts and sandbox counts
  // were never compared with the hypervisor's own view. Each entry is another mistake against that property.
  {
    id: 'crash-restarts-not-counted',
    what: "the crash supervisor records a crash restart on the sandbox (the admin API's restarts) but no longer adds it to choiros_sandbox_restarts_total, so the SandboxRestarts published stay 0 however often sandboxes crash and come back",
    caughtBy: [line.hostHealth],
    edits: [{ file: 'hypervisor/sandboxes/supervisor.ts', find: "    sandboxRestarts.inc({ runtime: entry.record.spec.runtime, role: entry.key.role, reason: 'crash' });\n", replace: '' }],
  },
  {
    id: 'sandbox-counts-by-desired-state',
    what: "the manager counts sandboxes by the state they are meant to be in (desired running or stopped) instead of the one they are in, so a sandbox whose start failed is published as running and SandboxesFailed stays 0",
    caughtBy: [line.metrics],
    edits: [{ file: 'hypervisor/sandboxes/manager.ts', find: '    for (const entry of this.entries.values()) counts[statusOf(entry.record.state)] += 1;', replace: "    for (const entry of this.entries.values()) counts[entry.record.desired === 'running' ? 'running' : 'stopped'] += 1;" }],
  },
  {
    id: 'admin-restarts-counted-as-reconcile',
    what: "the manager counts an admin restart under reason=\"reconcile\" in choiros_sandbox_restarts_total: the total (and so SandboxRestarts published) still rises, but the figure by reason no longer tells an operator's restart from a start-up reconcile",
    caughtBy: [line.metrics],
    edits: [{ file: 'hypervisor/sandboxes/manager.ts', find: "      sandboxRestarts.inc({ runtime: entry.record.spec.runtime, role: key.role, reason: 'admin' });", replace: "      sandboxRestarts.inc({ runtime: entry.record.spec.runtime, role: key.role, reason: 'reconcile' });" }],
  },
  // Promise audit (issue #11): promises of the recovery flow, the playbook and the published figures no line asked about.
  {
    id: 'recovery-codes-left-counted-before-spending',
    what: "redeem counts the user's unused codes before it marks the redeemed one used, so the recovery answer (and its audit line) says ten codes are left after one was spent",
    caughtBy: [line.auth],
    edits: [{ file: 'hypervisor/auth/recovery-codes.ts', find: '      const redeemed = Number(markUsed.run(Date.now(), matchId).changes) === 1;\n      return { redeemed, remaining: remaining(userId) };', replace: '      const left = remaining(userId);\n      const redeemed = Number(markUsed.run(Date.now(), matchId).changes) === 1;\n      return { redeemed, remaining: left };' }],
  },
  {
    id: 'recovery-code-case-sensitive',
    what: 'normalizing a typed recovery code no longer lower-cases it ("codes are lower-case anyway"), so a code typed or pasted in capitals is refused as wrong',
    caughtBy: [line.auth],
    edits: [{ file: 'hypervisor/auth/recovery-codes.ts', find: "  const compact = input.toLowerCase().replace(/[\\s-]/g, '');", replace: "  const compact = input.replace(/[\\s-]/g, '');" }],
  },
  {
    id: 'recovery-names-the-unknown-user',
    what: 'a recovery for a username nobody has is answered 404 "no such user" (a helpful message), so anyone can find out which usernames exist',
    caughtBy: [line.auth],
    edits: [{ file: 'hypervisor/auth/recovery.ts', find: '  if (!user || !redeemed) {', replace: "  if (!user) throw new HttpError(404, 'no such user');\n  if (!redeemed) {" }],
  },
  {
    id: 'playbook-restart-sandbox-only-starts',
    what: 'the playbook\'s restart-sandbox command posts to /live/start ("start is idempotent, so it is safe"): it exits 0 with the running sandbox as it was, and the operator believes the live sandbox restarted',
    caughtBy: [line.playbook],
    edits: [{ file: 'docs/operations-playbook.md', find: '"$CHOIROS_URL/admin/sandboxes/$CHOIROS_USER/live/restart"', replace: '"$CHOIROS_URL/admin/sandboxes/$CHOIROS_USER/live/start"' }],
  },
  {
    id: 'playbook-metrics-misnames-requests',
    what: "the playbook's metrics command greps for choiros_proxy_request_total (singular), a family that does not exist: the command still exits 0 on the sandbox lines, and the operator never sees the proxied requests",
    caughtBy: [line.playbook],
    edits: [{ file: 'docs/operations-playbook.md', find: "grep -E '^choiros_(sandboxes|proxy_requests_total|sandbox_restarts_total)'", replace: "grep -E '^choiros_(sandboxes|proxy_request_total|sandbox_restarts_total)'" }],
  },
  {
    id: 'memory-headroom-from-memfree',
    what: "the hypervisor's memory headroom reads MemFree (which leaves out the reclaimable page cache) instead of MemAvailable, so CloudWatch shows a host short of memory that is not",
    caughtBy: [line.metrics],
    edits: [{ file: 'hypervisor/cloudwatch/headroom.ts', find: "  const available = field('MemAvailable');", replace: "  const available = field('MemFree');" }],
  },
  {
    id: 'p99-window-never-emptied',
    what: "the latency window hands out its p99 but keeps its samples (the reset dropped in a tidy-up), so one slow request keeps the published p99 high in every later interval",
    caughtBy: [line.metrics],
    edits: [{ file: 'hypervisor/cloudwatch/latency.ts', find: '    const samples = this.#samples.sort((a, b) => a - b);\n    this.#samples = [];\n    this.#seen = 0;\n', replace: '    const samples = [...this.#samples].sort((a, b) => a - b);\n' }],
  },
  {
    id: 'recovery-session-registers-for-anyone',
    what: 'registering a passkey for an existing username asks only for some session, not one of that account ("a signed-in caller is trusted"), so one account\'s recovery session (or any session) adds a passkey to another account and takes it over',
    caughtBy: [line.auth],
    edits: [{ file: 'hypervisor/auth/register.ts', find: '    if (!session || session.userId !== existing.id) throw new HttpError(409,', replace: '    if (!session) throw new HttpError(409,' }],
  },
  {
    id: 'start-duration-recorded-in-ms',
    what: 'the ready start is recorded in choiros_sandbox_start_duration_seconds as the milliseconds it took (the /1000 lost when duration_ms was rounded for the log), so every start reads a thousand times slower and fills the top bucket',
    caughtBy: [line.metrics],
    edits: [{ file: 'hypervisor/sandboxes/manager.ts', find: "outcome: 'ready' }, durationMs / 1000);", replace: "outcome: 'ready' }, durationMs);" }],
  },
  // f9m1: round-9 misses
  {
    id: 'journal-time-from-the-monotonic-clock',
    what: "parseJournal dates each entry by journald's __MONOTONIC_TIMESTAMP (microseconds since the host booted) instead of __REALTIME_TIMESTAMP: every entry the host readings report is dated in the host's first days of 1970, so the logs evidence cannot be matched to the run that wrote it",
    caughtBy: [line.hostHealth],
    edits: [
      { file: 'deploy/host-readings.ts', find: 'const entry = JSON.parse(line) as { __REALTIME_TIMESTAMP?: string;', replace: 'const entry = JSON.parse(line) as { __MONOTONIC_TIMESTAMP?: string; __REALTIME_TIMESTAMP?: string;' },
      { file: 'deploy/host-readings.ts', find: 'const micros = Number(entry.__REALTIME_TIMESTAMP ?? 0);', replace: 'const micros = Number(entry.__MONOTONIC_TIMESTAMP ?? 0);' },
    ],
  },
  // f9m4: round-9 misses
  {
    id: 'client-errors-counted-as-server-errors',
    what: 'the proxy buckets every answer of 400 or more as 5xx ("an error is an error"), so a user\'s 404s and 401s show in choiros_proxy_requests_total and in ProxiedErrors as server errors',
    caughtBy: [line.metrics],
    edits: [{ file: 'hypervisor/proxy/metrics.ts', find: 'const statusClass = Math.min(5, Math.floor(status / 100));', replace: 'const statusClass = status >= 400 ? 5 : Math.floor(status / 100);' }],
  },
  {
    id: 'proxied-errors-any-non-2xx',
    what: 'ProxiedErrors counts every status class but 2xx (redirects and client errors included) instead of the 5xx and cut-off exchanges, so CloudWatch reports a user\'s 404s as errors the service made',
    caughtBy: [line.metrics],
    edits: [{ file: 'hypervisor/cloudwatch/figures.ts', find: "(labels) => labels.status_class === '5xx' || labels.status_class === '0xx'", replace: "(labels) => labels.status_class !== '2xx'" }],
  },
  // a10p5: Phase 5 mutation walk (issue #11)
  {
    id: 'playbook-logs-misses-fatal',
    what: "the playbook's logs command greps for '\"level\":50' alone (\"errors\"), so the fatal lines the block promises (\"errors and worse\") never show: an operator reading the logs after a crash sees \"no error-level lines\"",
    caughtBy: [line.playbook],
    edits: [{ file: 'docs/operations-playbook.md', find: `grep -E '"level":(50|60)'`, replace: `grep -E '"level":50'` }],
  },
  {
    id: 'journal-pino-error-only',
    what: 'the journal check counts pino level 50 exactly (=== instead of >=), so a fatal line (60), the worst there is, is not an error-level entry and the host line passes over it',
    caughtBy: [line.hostHealth],
    edits: [{ file: 'deploy/host-readings.ts', find: '(entry.level !== undefined && entry.level >= pinoError)', replace: '(entry.level !== undefined && entry.level === pinoError)' }],
  },
  {
    id: 'playbook-pointers-shows-pointers-twice',
    what: "the playbook's pointers block asks for the pointers twice (its second line copied from the first, /switches lost): it exits 0, and the operator never sees the last switches it promises",
    caughtBy: [line.playbook],
    edits: [{ file: 'docs/operations-playbook.md', find: '"$CHOIROS_URL/admin/sandboxes/$CHOIROS_USER/switches"', replace: '"$CHOIROS_URL/admin/sandboxes/$CHOIROS_USER/pointers"' }],
  },
  {
    id: 'user-deletion-keeps-the-account',
    what: 'DELETE /admin/users/:userId ends the sessions and removes the sandboxes and data but no longer deletes the account row (lost when the statements were reordered): it answers 200, and the playbook\'s delete-user leaves the gate user listed, able to sign in again',
    caughtBy: [line.playbook],
    edits: [{ file: 'hypervisor/http/user-deletion.ts', find: "  db.prepare('DELETE FROM auth_users WHERE id = ?').run(userId);\n", replace: '' }],
  },
  {
    id: 'playbook-logs-default-unit-misnamed',
    what: "the playbook's logs block defaults CHOIROS_UNIT to choiros (the service's short name) rather than choiros-hypervisor: an operator on the host who leaves the variable unset reads an empty journal, and the block prints \"no error-level lines\" whatever the hypervisor logged",
    caughtBy: [line.playbook],
    edits: [{ file: 'docs/operations-playbook.md', find: 'journalctl -u "${CHOIROS_UNIT:-choiros-hypervisor}"', replace: 'journalctl -u "${CHOIROS_UNIT:-choiros}"' }],
  },
  {
    id: 'playbook-restart-default-unit-misnamed',
    what: "the playbook's restart block defaults CHOIROS_UNIT to choiros: an operator who leaves the variable unset restarts nothing (systemd: unit not found), and the block's own is-active then reports the untouched hypervisor active",
    caughtBy: [line.playbook],
    edits: [{ file: 'docs/operations-playbook.md', find: 'systemctl restart "${CHOIROS_UNIT:-choiros-hypervisor}"', replace: 'systemctl restart "${CHOIROS_UNIT:-choiros}"' }],
  },
  {
    id: 'p99-times-operator-routes',
    what: "the latency window times /admin requests as if they were proxied (the operator routes dropped from notProxied when /health and /metrics were listed on a line of their own), so every seconds-long admin restart or rollback is published as the sandboxes' p99",
    caughtBy: [line.metrics],
    edits: [{ file: 'hypervisor/cloudwatch/latency.ts', find: " || pathname === '/admin' || pathname.startsWith('/admin/')", replace: '' }],
  },
  {
    id: 'switch-answer-names-the-release-left',
    what: "the switch view fills `to.release_id` from the release the switch left (a copy-paste of the `from` line above it): the playbook's rollback answers that it now serves the release it just rolled away from, and the operator rolls back again",
    caughtBy: [line.playbook],
    edits: [{ file: 'hypervisor/routing/views.ts', find: '    to: { role: record.toRole, release_id: record.toRelease },', replace: '    to: { role: record.toRole, release_id: record.fromRelease },' }],
  },
  // round 11 (unseen) misses, each now checked by its line
  {
    id: 'nightly-defect-issues-only-on-failure',
    what: "the nightly's defect-issues step runs only if: failure(), so on a night every line passes no issue is commented on or closed, and fixed lines stay open as defects",
    caughtBy: [line.smokeResults],
    edits: [{ file: '.github/workflows/nightly.yml', find: "        if: always() && steps.gate.outcome != 'skipped'\n        run: npm run gate -- defects phase5", replace: '        if: failure()\n        run: npm run gate -- defects phase5' }],
  },
  {
    id: 'nightly-upload-skipped-after-failure',
    what: "the nightly's upload of the report, verdict and evidence loses its if: always(), so GitHub skips it on exactly the nights a line fails, when the evidence is needed",
    caughtBy: [line.smokeResults],
    edits: [{ file: '.github/workflows/nightly.yml', find: '      - name: Upload the Allure report, verdict and evidence\n        if: always()\n', replace: '      - name: Upload the Allure report, verdict and evidence\n' }],
  },
  // a11-wf: the nightly workflow's job settings a Phase 5 line promises
  {
    id: 'nightly-phase5-job-least-privilege',
    what: "the nightly's phase5 job is given its own least-privilege `permissions: contents: read` (as the integrity jobs have); a job's permissions replace the workflow's, so its token may not write issues and `gate defects` files, comments on and closes nothing",
    caughtBy: [line.smokeResults],
    edits: [{ file: '.github/workflows/nightly.yml', find: '    timeout-minutes: 45\n', replace: '    timeout-minutes: 45\n    permissions:\n      contents: read\n' }],
  },
  {
    id: 'nightly-newer-run-cancels-the-validation',
    what: "the nightly's per-target concurrency is set to cancel-in-progress: true (a manual run supersedes the night's), so a run cancelled mid-suite leaves its gate users on the host and files no defect issues",
    caughtBy: [line.smoke],
    edits: [{ file: '.github/workflows/nightly.yml', find: '      group: nightly-${{ matrix.target }}\n      cancel-in-progress: false\n', replace: '      group: nightly-${{ matrix.target }}\n      cancel-in-progress: true\n' }],
  },
  {
    id: 'nightly-concurrency-group-per-run',
    what: "the nightly's concurrency group is keyed by the run (`nightly-${{ matrix.target }}-${{ github.run_id }}`), so a manual run and the night's run validate one host at once and remove each other's gate users",
    caughtBy: [line.smoke],
    edits: [{ file: '.github/workflows/nightly.yml', find: '      group: nightly-${{ matrix.target }}\n', replace: '      group: nightly-${{ matrix.target }}-${{ github.run_id }}\n' }],
  },
  {
    id: 'nightly-ledger-restore-keys-dropped',
    what: "the nightly's ledger restore loses its restore-keys (its key holds the run id, so it never matches exactly): every night starts without the ledger, and the phase5 gate refuses to run for want of the earlier phases' verdicts",
    caughtBy: [line.smokeResults],
    edits: [{ file: '.github/workflows/nightly.yml', find: '          restore-keys: |\n            nightly-${{ matrix.target }}-\n', replace: '' }],
  },
  {
    id: 'nightly-ledger-saved-under-one-key',
    what: "the nightly's ledger cache key drops the run id and attempt (`nightly-${{ matrix.target }}` for restore and save): a saved cache is never overwritten, so every night restores the first night's ledger and Allure history",
    caughtBy: [line.smokeResults],
    edits: [
      { file: '.github/workflows/nightly.yml', find: '          key: nightly-${{ matrix.target }}-${{ github.run_id }}-${{ github.run_attempt }}\n          restore-keys: |\n            nightly-${{ matrix.target }}-\n', replace: '          key: nightly-${{ matrix.target }}\n' },
      { file: '.github/workflows/nightly.yml', find: '            reports/allure-history\n          key: nightly-${{ matrix.target }}-${{ github.run_id }}-${{ github.run_attempt }}\n      - name: Upload', replace: '            reports/allure-history\n          key: nightly-${{ matrix.target }}\n      - name: Upload' },
    ],
  },
  {
    id: 'nightly-gate-target-from-the-input',
    what: "the nightly's job env takes GATE_TARGET from `inputs.target` rather than the matrix: a scheduled night carries no inputs, so its gate runs against the default target instead of the deployed host",
    caughtBy: [line.smoke],
    edits: [{ file: '.github/workflows/nightly.yml', find: '      GATE_TARGET: ${{ matrix.target }}\n', replace: '      GATE_TARGET: ${{ inputs.target }}\n' }],
  },
  {
    id: 'nightly-all-phases-unless-false',
    what: "the nightly's gate step runs every phase unless all-phases is \"false\" (`!= \"false\"`): a scheduled night carries no inputs, so it reruns phases 1 to 5 against the host every night instead of phase5",
    caughtBy: [line.smoke],
    edits: [{ file: '.github/workflows/nightly.yml', find: 'if [ "$ALL_PHASES" = "true" ]; then', replace: 'if [ "$ALL_PHASES" != "false" ]; then' }],
  },
];
