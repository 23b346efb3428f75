import type { SeededDefect } from '../../integrity/seeded-defect.ts';

/**
 * Phase 1's seeded defects (npm run integrity): each a small mistake a person could make in the
 * hypervisor, the workload or the gate's own fixtures, and the lines that must catch it. The lines
 * check their property (no credential reaches a sandbox, a crash is restarted unasked, ...), not
 * these particular edits; this list only proves that they can fail.
 */

const line = {
  lifecycle: 'Hypervisor starts/stops/restarts sandbox container locally.',
  authProxy: 'Auth + proxy path works through hypervisor.',
  webSocket: 'WebSocket task flow works end-to-end.',
  image: 'Add/verify sandbox OCI image build path.',
  runtimeCommands: 'Wire hypervisor local container runtime command path.',
  envMountsPorts: 'Validate env, volume mounts, and ports for live/dev roles.',
  userTask: 'Capture one successful end-to-end user task.',
  podmanPs: '`podman ps` lifecycle output attached.',
  transitionLogs: 'Hypervisor logs for spawn/stop transitions attached.',
  e2eSmoke: 'E2E smoke result attached.',
  processFallback: 'Document and verify fallback to direct-process sandbox mode.',
  liveAndDev: 'One user can run `live` and `dev` sandboxes concurrently behind hypervisor.',
  swap: 'Hypervisor can route/swap between live/dev for rollback.',
  knownGood: 'Prior known-good config/image can be restored in bounded time.',
} as const;

// Platform settings passed through by prefix: the kind of convenience that leaks a secret whose name nobody listed.
const choirosSettings = "(Object.fromEntries(Object.entries(process.env).filter(([name]) => name.startsWith('CHOIROS_'))) as Record<string, string>)";

export const defects: readonly SeededDefect[] = [
  {
    id: 'sandbox-ready-duration-in-seconds',
    what: "the sandbox.ready log line gives the start's duration in seconds, as the start histogram observes it, under the name duration_ms (a 2 s start logs duration_ms 2)",
    caughtBy: [line.transitionLogs],
    edits: [{ file: 'hypervisor/sandboxes/manager.ts', find: "this.transition(entry, 'sandbox.ready', { duration_ms: durationMs, reason });", replace: "this.transition(entry, 'sandbox.ready', { duration_ms: Math.round(durationMs / 1000), reason });" }],
  },
  {
    id: 'switch-history-duration-in-seconds',
    what: "the switch history stores a switch's duration in seconds, as the route-switch histogram observes it, so the history's duration_ms of a 40 ms swap reads 0.04",
    caughtBy: [line.swap],
    edits: [{ file: 'hypervisor/routing/switch.ts', find: '  ctx.history.finish(recordId, drained, durationMs);', replace: '  ctx.history.finish(recordId, drained, durationMs / 1000);' }],
  },
  {
    id: 'crash-waits-for-next-request',
    what: 'a crashed sandbox is left stopped for the next request to start, instead of being restarted with backoff',
    caughtBy: [line.lifecycle],
    edits: [
      {
        file: 'hypervisor/sandboxes/supervisor.ts',
        find: '    this.#deps.writes.persist(entry, { pid: null, pidStart: null });\n    this.#scheduleRestart(entry, crashesInARow, how);',
        replace: "    // The next request starts it again (ensureRunning), so an idle crashed sandbox costs nothing.\n    entry.crashesInARow = crashesInARow;\n    this.#deps.writes.persist(entry, { pid: null, pidStart: null, state: 'stopped' });",
      },
    ],
  },
  {
    id: 'stop-only-for-processes',
    what: "the podman runtime's stop returns early unless the instance has a pid (copied from the process runtime): the container keeps running",
    caughtBy: [line.podmanPs, line.lifecycle],
    edits: [{ file: 'hypervisor/sandboxes/podman-runtime.ts', find: '    if (!instance.containerId) return;', replace: '    if (!instance.pid) return;' }],
  },
  {
    id: 'cookie-forwarded',
    what: "the proxy forwards the browser's Cookie header to the sandbox (the session cookie reaches untrusted code)",
    caughtBy: [line.authProxy],
    edits: [{ file: 'hypervisor/proxy/headers.ts', find: "  ...hopByHop,\n  'cookie',\n", replace: '  ...hopByHop,\n' }],
  },
  {
    id: 'forged-identity-kept',
    what: "the proxy keeps an x-choiros-user-id the client sent (meant for internal hops), so a client can claim another user's identity",
    caughtBy: [line.authProxy],
    edits: [
      { file: 'hypervisor/proxy/headers.ts', find: " || name.startsWith('x-choiros-')", replace: '' },
      { file: 'hypervisor/proxy/headers.ts', find: "  out['x-choiros-user-id'] = identity.userId;\n  out['x-choiros-sandbox-role'] = identity.role;", replace: "  out['x-choiros-user-id'] ??= identity.userId;\n  out['x-choiros-sandbox-role'] ??= identity.role;" },
    ],
  },
  {
    // Not the early-frame buffer: dropping it loses frames only in a narrow race the line cannot see reliably (measured: missed).
    id: 'websocket-frames-relayed-as-binary',
    what: "the WebSocket relay sends what it received without the frame's type; ws then sends Buffers as binary, so text frames reach the browser as Blobs",
    caughtBy: [line.webSocket],
    edits: [{ file: 'hypervisor/proxy/websocket-relay.ts', find: '        to.send(data, { binary: isBinary }, drained);', replace: '        to.send(data, drained);' }],
  },
  {
    id: 'image-runs-as-root',
    what: 'the sandbox image loses its USER line, so sandboxes run as root in their containers',
    caughtBy: [line.image],
    edits: [{ file: 'hypervisor/workload/image/build-context.ts', find: 'USER ${sandboxUser.uid}:${sandboxUser.gid}\n', replace: '' }],
  },
  {
    id: 'capabilities-kept',
    what: 'podman run no longer drops all capabilities (removed while debugging a permission error)',
    caughtBy: [line.runtimeCommands],
    edits: [{ file: 'hypervisor/sandboxes/podman-runtime.ts', find: "    '--cap-drop=all', '--security-opt=no-new-privileges',", replace: "    '--security-opt=no-new-privileges'," }],
  },
  {
    id: 'container-gets-platform-settings',
    what: "containers get the hypervisor's CHOIROS_* settings on top of the allowlist (a secret under such a name leaks)",
    caughtBy: [line.envMountsPorts],
    edits: [
      {
        file: 'hypervisor/sandboxes/podman-runtime.ts',
        find: "    const env = sandboxEnv({ key, port: containerPort, dataDir: '/data', config: spec.config });",
        replace: `    const env = { ...${choirosSettings}, ...sandboxEnv({ key, port: containerPort, dataDir: '/data', config: spec.config }) };`,
      },
    ],
  },
  {
    id: 'roles-share-a-data-dir',
    what: "a user's live and dev sandboxes share one data directory (<root>/<user> instead of <root>/<user>/<role>)",
    caughtBy: [line.liveAndDev, line.envMountsPorts],
    edits: [{ file: 'hypervisor/sandboxes/data-dir.ts', find: 'path.resolve(dataRoot, parseUserId(key.userId), key.role)', replace: 'path.resolve(dataRoot, parseUserId(key.userId))' }],
  },
  {
    id: 'document-digest-of-trimmed-text',
    what: "the workload records a document's sha256 over its text without the final newline, so the digest does not match the document",
    caughtBy: [line.userTask],
    edits: [{ file: 'hypervisor/workload/conductor.ts', find: "sha256: createHash('sha256').update(content).digest('hex')", replace: "sha256: createHash('sha256').update(content.trimEnd()).digest('hex')" }],
  },
  {
    // Not "sandbox.stop without its container_id": the manager adds the recorded container to every transition, so that edit changed nothing (measured: missed).
    id: 'stop-logged-at-debug',
    what: 'sandbox.stop is logged at debug ("stops are routine"), so the info log no longer shows a sandbox being stopped',
    caughtBy: [line.transitionLogs],
    edits: [
      {
        file: 'hypervisor/sandboxes/transitions.ts',
        find: "export const transitionLevel = (event: TransitionEvent): 'info' | 'warn' | 'error' =>\n  event === 'sandbox.failed' ? 'error' : event === 'sandbox.crash' || event === 'sandbox.stray_removed' ? 'warn' : 'info';",
        replace: "export const transitionLevel = (event: TransitionEvent): 'debug' | 'info' | 'warn' | 'error' =>\n  event === 'sandbox.failed' ? 'error' : event === 'sandbox.crash' || event === 'sandbox.stray_removed' ? 'warn' : event === 'sandbox.stop' ? 'debug' : 'info';",
      },
    ],
  },
  {
    id: 'screenshot-evidence-as-jpeg',
    what: "the evidence fixture saves screenshots as JPEG (smaller) under their .png names, so the attached file is not what it says",
    caughtBy: [line.e2eSmoke],
    edits: [{ file: 'fixtures/evidence.ts', find: 'page.screenshot({ path: file, fullPage: true })', replace: "page.screenshot({ path: file, fullPage: true, type: 'jpeg', quality: 60 })" }],
  },
  {
    id: 'process-sandbox-gets-platform-settings',
    what: "process-mode sandboxes get the hypervisor's CHOIROS_* settings on top of the allowlist",
    caughtBy: [line.processFallback],
    edits: [{ file: 'hypervisor/sandboxes/process-runtime.ts', find: '      env: { ...env },', replace: `      env: { ...${choirosSettings}, ...env },` }],
  },
  {
    id: 'swap-trusts-a-running-slot',
    what: 'a swap skips the health gate when the target slot already runs ("it was checked when it started")',
    caughtBy: [line.swap],
    edits: [
      {
        file: 'hypervisor/routing/switch.ts',
        find: '    const { port } = await ctx.slots.ensureRunning({ userId, role: target });\n    const remaining = healthGateDeadlineMs(ctx.options.healthDeadlineMs, performance.now() - startedAt);\n    health = await ctx.healthGate(port, { deadlineMs: remaining, smoke: request.smoke ?? false });',
        replace:
          "    const alreadyRunning = ctx.slots.status({ userId, role: target })?.status === 'running';\n    const { port } = await ctx.slots.ensureRunning({ userId, role: target });\n    const remaining = healthGateDeadlineMs(ctx.options.healthDeadlineMs, performance.now() - startedAt);\n    // A slot the manager already runs passed its readiness check when it started.\n    health = alreadyRunning ? { version: '', instanceRole: target, elapsedMs: 0, smoke: false } : await ctx.healthGate(port, { deadlineMs: remaining, smoke: request.smoke ?? false });",
      },
    ],
  },
  {
    id: 'rollback-to-the-current-release',
    what: 'the previous known-good release is looked up with <= instead of <, so rollback "restores" the release that serves now',
    caughtBy: [line.knownGood],
    edits: [{ file: 'hypervisor/routing/releases.ts', find: 'release.id < current.id', replace: 'release.id <= current.id' }],
  },
  // Measured as defects the suites had never seen (npm run integrity -- phase1 --catalogue FILE), then kept here.
  {
    id: 'authorization-forwarded',
    what: 'the proxy forwards Authorization to the sandbox',
    caughtBy: [line.authProxy],
    edits: [{ file: 'hypervisor/proxy/headers.ts', find: "  'cookie',\n  'authorization',\n", replace: "  'cookie',\n" }],
  },
  {
    id: 'proxy-authorization-forwarded',
    what: 'Proxy-Authorization is no longer treated as hop-by-hop, so it reaches the sandbox',
    caughtBy: [line.authProxy],
    edits: [{ file: 'hypervisor/proxy/headers.ts', find: "'proxy-authenticate', 'proxy-authorization'];", replace: "'proxy-authenticate'];" }],
  },
  {
    id: 'logout-keeps-server-session',
    what: 'logout clears the cookie in the browser but not the session on the server, so a copied cookie still works',
    caughtBy: [line.authProxy],
    edits: [{ file: 'hypervisor/auth/context.ts', find: '  if (id) context.sessions.delete(id);\n', replace: '' }],
  },
  {
    id: 'backoff-always-max',
    what: 'Math.max instead of Math.min in the restart policy: every crash restart waits the longest backoff',
    caughtBy: [line.lifecycle],
    edits: [{ file: 'hypervisor/sandboxes/restart-policy.ts', find: 'return Math.min(maxBackoffMs, baseMs * 2 ** (Math.max(1, crashesInARow) - 1));', replace: 'return Math.max(maxBackoffMs, baseMs * 2 ** (Math.max(1, crashesInARow) - 1));' }],
  },
  {
    id: 'data-dirs-of-the-other-role',
    what: 'live mounts the dev directory and dev the live one',
    caughtBy: [line.envMountsPorts, line.liveAndDev],
    edits: [{ file: 'hypervisor/sandboxes/data-dir.ts', find: 'path.resolve(dataRoot, parseUserId(key.userId), key.role)', replace: "path.resolve(dataRoot, parseUserId(key.userId), key.role === 'live' ? 'dev' : 'live')" }],
  },
  {
    id: 'process-sandbox-as-root',
    what: 'process-mode sandboxes run as the hypervisor user (root), able to read its database and token',
    caughtBy: [line.processFallback],
    edits: [{ file: 'hypervisor/sandboxes/process-runtime.ts', find: '      ...(this.runAs ? { uid: this.runAs.uid, gid: this.runAs.gid } : {}),\n', replace: '' }],
  },
  {
    id: 'no-progress-events',
    what: 'the conductor no longer emits progress events, so the desktop shows nothing between start and end',
    caughtBy: [line.webSocket],
    edits: [{ file: 'hypervisor/workload/conductor.ts', find: "    this.#emit({ type: 'conductor.run.progress', ...this.#base(run), step: { index, total: run.stepsTotal, name: stepName } });\n", replace: '' }],
  },
  {
    id: 'websocket-upgrade-any-origin',
    what: 'the upgrade path checks the session but not the Origin, so a page on any site the user visits opens a WebSocket into their sandbox with their cookie (cross-site WebSocket hijacking)',
    caughtBy: [line.authProxy],
    edits: [{ file: 'hypervisor/proxy/session-guard.ts', find: "      if (!origin.allowed) return refuseUpgrade(socket, 403, origin.reason);\n      await proxy.handleUpgrade(", replace: '      await proxy.handleUpgrade(' }],
  },
  // Misses of the last never-seen measurement (issue #11), each now checked by the line that owns the property.
  {
    id: 'health-probe-accepts-any-status',
    what: 'the health probe accepts any /health body with a status, not only "healthy", so a running sandbox that reports itself degraded passes the swap\'s health gate',
    caughtBy: [line.swap],
    edits: [{ file: 'hypervisor/sandboxes/health-probe.ts', find: "    return body.status === 'healthy' ? body : undefined;", replace: "    return typeof body.status === 'string' ? body : undefined;" }],
  },
  {
    id: 'explicit-rollback-to-any-release',
    what: 'an explicit rollback (release_id given) no longer requires the release to be known-good, so a release never proven on main can be "rolled back" to',
    caughtBy: [line.knownGood],
    edits: [
      {
        file: 'hypervisor/routing/rollback.ts',
        find: "    if (!chosen.knownGoodAt) {\n      throw new RoutingError('no_known_good', `release ${chosen.id} is not known-good, so it is no rollback target: mark it (POST /admin/releases/${chosen.id}/known-good) or pick a known-good one (GET /admin/releases)`);\n    }\n",
        replace: '',
      },
    ],
  },
  {
    id: 'adopted-sandboxes-unwatched',
    what: 'reconcile adopts a sandbox that survived a hypervisor restart but no longer watches it, so when it dies nobody restarts it until a request comes',
    caughtBy: [line.lifecycle],
    edits: [{ file: 'hypervisor/sandboxes/reconcile-steps.ts', find: '      deps.watch(entry, instance);\n', replace: '' }],
  },
  // Misses of the fifth never-seen measurement (issue #11): each line now checks the property, these prove it can fail.
  {
    id: 'recovery-counted-per-client-only',
    what: 'recovery failures are counted only per client address (20 per 15 min), not per account: guessing one account\'s codes is not refused within 10 tries, and an attacker spreading over addresses is never refused',
    caughtBy: [line.authProxy],
    edits: [{ file: 'hypervisor/auth/recovery.ts', find: '    [context.limits.recoveryByAccount, account],\n', replace: '' }],
  },
  {
    id: 'drain-ignores-relayed-requests',
    what: 'a drain counts only requests still being resolved, not those already relayed to the sandbox: a swap answers while a request to the old main is still in flight',
    caughtBy: [line.swap],
    edits: [{ file: 'hypervisor/proxy/traffic.ts', find: '    return (this.#targets.get(key)?.inFlight ?? 0) === 0 && !this.#resolving.has(userOf(key));', replace: '    return !this.#resolving.has(userOf(key));' }],
  },
  {
    id: 'sandbox-greets-only-when-asked',
    what: 'the workload no longer sends its pong on connect (taken for a reply to ping only), so a page never learns its WebSocket reached the sandbox until it asks',
    caughtBy: [line.webSocket],
    edits: [{ file: 'hypervisor/workload/ws-hub.ts', find: "    this.#send(ws, { type: 'pong' });\n  }\n", replace: '  }\n' }],
  },
  {
    id: 'reconcile-resumes-stopped-sandboxes',
    what: 'reconcile starts every recorded sandbox after a hypervisor restart, whatever its desired state: one stopped through the admin API runs again',
    caughtBy: [line.lifecycle],
    edits: [{ file: 'hypervisor/sandboxes/reconcile.ts', find: "    if (record.desired === 'running') steps.resume(record);\n    else steps.settle(record);", replace: '    steps.resume(record);' }],
  },
  {
    id: 'stray-containers-kept',
    what: "reconcile leaves alone what it finds of its instance with no record (as if someone else's), so a container the hypervisor does not know keeps its name and runs on unmanaged after a restart",
    caughtBy: [line.lifecycle],
    edits: [{ file: 'hypervisor/sandboxes/reconcile.ts', find: "      const why = !record ? 'no record' :", replace: "      if (!record) continue;\n      const why = !record ? 'no record' :" }],
  },
  // Misses of the sixth never-seen measurement (issue #11): each line now checks the property, these prove it can fail.
  {
    id: 'websockets-registered-by-route',
    what: 'the proxy registers a relayed WebSocket under its route (main or dev) instead of the sandbox it reaches, so a switch, which closes WebSockets by sandbox, leaves those of the main route open on a sandbox the route no longer reaches',
    caughtBy: [line.swap],
    edits: [{ file: 'hypervisor/proxy/proxy.ts', find: '      const sandboxId = `${user.userId}:${resolved.role}`;\n      webSockets.relay({', replace: '      const sandboxId = `${user.userId}:${routed.route}`;\n      webSockets.relay({' }],
  },
  {
    id: 'crash-count-reset-when-ready',
    what: 'the manager resets the crash count whenever a sandbox becomes ready ("it recovered"), so one that crashes right after every start never reaches the restart limit and is restarted forever',
    caughtBy: [line.lifecycle],
    edits: [{ file: 'hypervisor/sandboxes/manager.ts', find: '    entry.runningSince = now;\n', replace: '    entry.runningSince = now;\n    entry.crashesInARow = 0;\n' }],
  },
  {
    id: 'switch-skips-smoke',
    what: 'a switch health-checks its new target without the smoke request ("the deploy smoked it already"), so a promote to a release whose API now answers 500 is switched to',
    caughtBy: [line.swap],
    edits: [{ file: 'hypervisor/routing/switch.ts', find: 'smoke: request.smoke ?? false });', replace: 'smoke: false });' }],
  },
  {
    id: 'sandbox-clears-site-data',
    what: 'the proxy passes Clear-Site-Data from a sandbox\'s answer: a sandbox answering `Clear-Site-Data: "cookies"` wipes the session cookie of the origin it shares with the login pages',
    caughtBy: [line.authProxy],
    edits: [{ file: 'hypervisor/proxy/headers.ts', find: "  'clear-site-data',\n", replace: '' }],
  },
  {
    id: 'sandbox-pins-hsts',
    what: 'the proxy passes Strict-Transport-Security from a sandbox\'s answer: a sandbox pins HTTPS, with includeSubDomains, for the host it shares with the login pages',
    caughtBy: [line.authProxy],
    edits: [{ file: 'hypervisor/proxy/headers.ts', find: "  'strict-transport-security',\n", replace: '' }],
  },
  {
    id: 'relay-restores-sandbox-cookies',
    what: 'the HTTP relay puts the sandbox\'s Set-Cookie back after filtering its headers ("apps need their own cookies"): a sandbox sets cookies on the hypervisor\'s origin and can overwrite choiros_session',
    caughtBy: [line.authProxy],
    edits: [
      {
        file: 'hypervisor/proxy/http-relay.ts',
        find: '      res.writeHead(statusCode, towardsClient(headers));',
        replace: "      res.writeHead(statusCode, { ...towardsClient(headers), ...(headers['set-cookie'] === undefined ? {} : { 'set-cookie': headers['set-cookie'] }) });",
      },
    ],
  },
  {
    id: 'service-worker-header-stripped-not-refused',
    what: 'the service-worker refusal becomes dropping the Service-Worker header towards the sandbox ("it need not know"): the sandbox serves the script and the browser installs it as a worker over the login pages',
    caughtBy: [line.authProxy],
    edits: [
      { file: 'hypervisor/proxy/session-guard.ts', find: "      if (req.headers['service-worker'] !== undefined) return replyError(res, 403, serviceWorkerRefusal);\n", replace: '' },
      { file: 'hypervisor/proxy/headers.ts', find: "  'expect',\n]);", replace: "  'expect',\n  'service-worker',\n]);" },
    ],
  },
  {
    id: 'login-checks-account-has-passkeys',
    what: 'login checks that the named account has a passkey, not that the answering passkey is one of its own: another user\'s passkey signs in to the account',
    caughtBy: [line.authProxy],
    edits: [{ file: 'hypervisor/auth/login.ts', find: 'if (!passkey || passkey.userId !== user.id) return fail(', replace: 'if (!passkey || context.passkeys.forUser(user.id).length === 0) return fail(' }],
  },
  {
    id: 'passkey-add-needs-stale-sign-in',
    what: 'the freshness check for adding a passkey is rewritten as "sign-in time plus the window is still ahead", with the comparison the wrong way: a user who has just signed in is refused, an old session may add one',
    caughtBy: [line.authProxy],
    edits: [{ file: 'hypervisor/auth/register.ts', find: "if (session.kind === 'user' && now - session.createdAt > freshSignInMs) {", replace: "if (session.kind === 'user' && session.createdAt + freshSignInMs > now) {" }],
  },
  {
    id: 'admin-restart-starts-default-spec',
    what: 'an admin restart starts the slot with the configured default spec ("a clean restart") instead of the one it ran: a slot running a deployed release comes back without it',
    caughtBy: [line.lifecycle],
    edits: [{ file: 'hypervisor/sandboxes/manager.ts', find: "      return this.startNow(key, undefined, 'restart');", replace: "      return this.startNow(key, this.defaultSpec, 'restart');" }],
  },
  {
    id: 'cold-rollback-marks-serving-slot-ready',
    what: "a cold rollback records 'ready' for the slot main serves before the switch, not the standby slot it started the release in: after the switch the slot serving main stays 'starting' and is never a warm standby",
    caughtBy: [line.knownGood],
    edits: [{ file: 'hypervisor/routing/rollback.ts', find: "        ctx.slotReleases.record(userId, pointers.dev, release.id, 'ready');\n", replace: "        ctx.slotReleases.record(userId, pointers.main, release.id, 'ready');\n" }],
  },
  {
    id: 'sandbox-application-close-codes-become-1011',
    what: "the relay reports a sandbox's application close codes (4000-4999) to the browser as 1011 (internal error), \"they mean nothing outside the sandbox\"",
    caughtBy: [line.webSocket],
    edits: [{ file: 'hypervisor/proxy/websocket-relay.ts', find: '      closeCounterpart(client, code, reason);', replace: '      closeCounterpart(client, code >= 4000 ? 1011 : code, reason);' }],
  },
  // a1b: promise audit
  {
    id: 'sandboxes-on-the-default-network',
    what: 'podman run loses --network=slirp4netns ("the default network is simpler"): sandboxes share podman\'s bridge, so one user\'s sandbox can reach another\'s address',
    caughtBy: [line.runtimeCommands],
    edits: [{ file: 'hypervisor/sandboxes/podman-runtime.ts', find: "    '--network=slirp4netns', '--http-proxy=false', '--init',", replace: "    '--http-proxy=false', '--init'," }],
  },
  {
    id: 'missing-image-reported-as-podman-error',
    what: "the image check passes podman's own error on instead of SandboxImageMissingError: a start on a missing image fails without saying to build it (npm run image) or set SANDBOX_CONTAINER_IMAGE",
    caughtBy: [line.runtimeCommands],
    edits: [{ file: 'hypervisor/sandboxes/podman-runtime.ts', find: '          throw error instanceof PodmanError ? new SandboxImageMissingError(image, error.stderr) : error;', replace: '          throw error;' }],
  },
  {
    id: 'admin-restart-not-counted',
    what: "an admin restart no longer adds to the sandbox's restarts (the count is meant for crashes), so the admin API under-reports how often a sandbox was restarted",
    caughtBy: [line.lifecycle],
    edits: [{ file: 'hypervisor/sandboxes/manager.ts', find: '      this.persist(entry, { restarts: entry.record.restarts + 1 });\n      await this.stopNow(entry, \'restart\', \'running\');', replace: "      await this.stopNow(entry, 'restart', 'running');" }],
  },
  {
    id: 'failed-sandbox-forgets-why',
    what: 'a sandbox failed past its restart limit is recorded with the last error it had before (copy-paste from the start path), not why it failed: the admin API does not say it hit the restart limit',
    caughtBy: [line.lifecycle],
    edits: [{ file: 'hypervisor/sandboxes/manager.ts', find: "    this.persist(entry, { state: 'failed', lastError: message, pid: null, pidStart: null });", replace: "    this.persist(entry, { state: 'failed', lastError: entry.record.lastError, pid: null, pidStart: null });" }],
  },
  {
    id: 'crash-and-failed-log-levels-swapped',
    what: 'the transition log levels are swapped: a crash is logged as an error and a sandbox that gave up only as a warning, so alerts on errors fire for every crash and the one that needs a person looks routine',
    caughtBy: [line.lifecycle],
    edits: [{ file: 'hypervisor/sandboxes/transitions.ts', find: "  event === 'sandbox.failed' ? 'error' : event === 'sandbox.crash'", replace: "  event === 'sandbox.crash' ? 'error' : event === 'sandbox.failed'" }],
  },
  {
    id: 'idle-timeout-read-as-minutes',
    what: 'the idle reaper multiplies SANDBOX_IDLE_TIMEOUT_SECS by 60 000 (as if minutes), so idle sandboxes run sixty times longer than configured',
    caughtBy: [line.lifecycle],
    edits: [{ file: 'hypervisor/sandboxes/idle-reaper.ts', find: '  const limitMs = deps.idleTimeoutSecs * 1000;', replace: '  const limitMs = deps.idleTimeoutSecs * 60_000;' }],
  },
  {
    id: 'admin-token-compared-with-itself',
    what: "copy-paste in the admin token check: the caller's token digest is compared with itself, so any bearer token opens the admin API",
    caughtBy: [line.lifecycle],
    edits: [{ file: 'hypervisor/http/admin-auth.ts', find: '  if (!timingSafeEqual(digest(match[1]), digest(token)))', replace: '  if (!timingSafeEqual(digest(match[1]), digest(match[1])))' }],
  },
  {
    id: 'admin-role-not-checked-at-the-door',
    what: 'the admin routes take the role from the path unchecked ("the manager checks it anyway"): the manager\'s InvalidRoleError is no HTTP error, so a start for an unknown role answers 500 instead of the contract\'s 400',
    caughtBy: [line.lifecycle],
    edits: [{ file: 'hypervisor/http/admin-sandboxes.ts', find: "    const role = parseRole(params.role ?? '');", replace: "    const role = (params.role ?? '') as SandboxKey['role'];" }],
  },
  {
    id: 'switch-reason-recorded-as-action',
    what: "copy-paste in the switch attempt: the history records the action (swap, promote, rollback) where the caller's reason belongs, so nobody can tell from the history why main was switched",
    caughtBy: [line.swap],
    edits: [{ file: 'hypervisor/routing/switch.ts', find: '    reason: request.reason,\n    fromRole: before.main,', replace: '    reason: request.action,\n    fromRole: before.main,' }],
  },
  {
    id: 'switch-drained-recorded-inverted',
    what: 'the switch history stores drained inverted (0 for drained), so every clean switch reads as one whose requests in flight were cut off',
    caughtBy: [line.swap],
    edits: [{ file: 'hypervisor/routing/switch-history.ts', find: ".run(drained ? 1 : 0, durationMs, id);", replace: ".run(drained ? 0 : 1, durationMs, id);" }],
  },
  {
    id: 'switch-from-release-of-the-target',
    what: "copy-paste in the switch attempt: the release main left is looked up on the target slot, so a rollback is recorded and answered as coming from the release it went to",
    caughtBy: [line.knownGood],
    edits: [{ file: 'hypervisor/routing/switch.ts', find: '    fromRelease: ctx.slotReleases.get(userId, before.main)?.releaseId ?? null,', replace: '    fromRelease: ctx.slotReleases.get(userId, target)?.releaseId ?? null,' }],
  },
  {
    id: 'refused-deploy-left-running',
    what: 'a refused deploy no longer stops the slot it started the release in ("main is untouched anyway"): a release that failed its check keeps running in the standby slot',
    caughtBy: [line.knownGood],
    edits: [{ file: 'hypervisor/routing/deploy.ts', find: "      await ctx.slots.stop(key).catch((stopError: unknown) => ctx.logger.warn({ event: 'routing.deploy_stop_failed', user: userId, role, error: errorMessage(stopError) }, 'could not stop a refused release'));\n", replace: '' }],
  },
  {
    id: 'container-stop-timeout-left-default',
    what: "podman run loses --stop-timeout (\"podman stop --time says it anyway\"): the container keeps podman's default of 10 s, so anything that stops it without the hypervisor's --time (a host shutdown, podman stop by hand) waits longer than SANDBOX_STOP_TIMEOUT_SECS",
    caughtBy: [line.runtimeCommands],
    edits: [{ file: 'hypervisor/sandboxes/podman-runtime.ts', find: "    '--stop-timeout', String(input.stopTimeoutSecs),\n", replace: '' }],
  },
  {
    id: 'release-config-checked-only-at-launch',
    what: 'the manager checks only the runtime of a start\'s spec, not its config ("sandboxEnv checks it at launch"): a config outside the allowlist is recorded and fails as a 503 start failure instead of a 400 naming the variable',
    caughtBy: [line.lifecycle],
    edits: [{ file: 'hypervisor/sandboxes/manager.ts', find: '    assertSandboxConfig(spec.config);\n  }', replace: '  }' }],
  },
  {
    id: 'process-stop-only-for-containers',
    what: "the process runtime's stop returns early unless the instance has a container id (copied from the podman runtime): a stopped process sandbox keeps running while the hypervisor reports it stopped",
    caughtBy: [line.processFallback],
    edits: [{ file: 'hypervisor/sandboxes/process-runtime.ts', find: '    if (pid === null || !isSameProcessAlive(pid, pidStart)) return;', replace: '    if (pid === null || instance.containerId === null || !isSameProcessAlive(pid, pidStart)) return;' }],
  },
  {
    id: 'process-sandboxes-not-adopted',
    what: "an off-by-one in the process runtime's isStagedEntry: after a hypervisor restart in process mode no running process sandbox is recognised, so each is started again (counted as a reconcile restart) while the old process keeps running, unmanaged",
    caughtBy: [line.processFallback],
    edits: [{ file: 'hypervisor/sandboxes/process-runtime.ts', find: 'relative.split(path.sep).length === 2', replace: 'relative.split(path.sep).length === 1' }],
  },
  {
    id: 'promote-ignores-what-the-slot-runs',
    what: 'promote no longer checks that the standby slot still runs the deployed release ("it was ready when deployed"): after an admin start on another config, that sandbox is switched to main and the release is marked known-good without ever serving',
    caughtBy: [line.swap],
    // The whole check goes: the throw and its block, so promote switches whatever the slot runs.
    edits: [{ file: 'hypervisor/routing/deploy.ts', find: '    if (spec && !runsRelease(spec, release)) {\n      throw new RoutingError(\'no_release\', `nothing to promote for user "${userId}": the ${pointers.dev} slot was started on something other than release ${release.id} since it was deployed. Deploy the release again (POST /admin/sandboxes/${userId}/deploy)`);\n    }\n', replace: '' }],
  },
  {
    id: 'release-pins-the-reference',
    what: 'a podman release records the reference it was made from instead of the image id podman resolved it to, so re-tagging the reference (a new npm run image) silently changes what a known-good release runs',
    caughtBy: [line.knownGood],
    edits: [{ file: 'hypervisor/routing/routing.ts', find: "release = this.releases.create({ runtime: 'podman', image: facts.id,", replace: "release = this.releases.create({ runtime: 'podman', image: input.image,", }],
  },
  // a1a: promise audit
  {
    id: 'websocket-leg-without-identity',
    what: 'the WebSocket leg to the sandbox is opened without the identity headers (as upstream did: "ws builds the handshake itself"), so a sandbox cannot tell whose connection it is or which route it came by',
    caughtBy: [line.webSocket],
    edits: [{ file: 'hypervisor/proxy/websocket-relay.ts', find: '      headers: identityHeaders(identity, upgrade.forwarding, req.headers.host),\n', replace: '' }],
  },
  {
    id: 'proxied-posts-skip-origin-check',
    what: 'the session guard checks the Origin of WebSocket upgrades only ("SameSite=Lax already stops cross-site POSTs"), so another site\'s page can make the user\'s sandbox act with their cookie (CSRF on the sandbox API)',
    caughtBy: [line.authProxy],
    edits: [{ file: 'hypervisor/proxy/session-guard.ts', find: '      if (!origin.allowed) return replyError(res, 403, origin.reason);\n      await proxy.handleRequest', replace: '      void origin;\n      await proxy.handleRequest' }],
  },
  {
    id: 'auth-posts-need-no-origin',
    what: 'the auth routes check the Origin with the proxied requests\' setting (requireOrigin false, copied from the line below), so a POST without an Origin is taken: login and registration CSRF from any non-browser-checked client',
    caughtBy: [line.authProxy],
    edits: [{ file: 'hypervisor/auth/auth.ts', find: '{ requireOrigin: true }', replace: '{ requireOrigin: false }' }],
  },
  {
    id: 'register-existing-username-any-session',
    what: 'register/start lets any signed-in user add a passkey to an existing username (the owner check shortened to "has a session"): one account can take over another',
    caughtBy: [line.authProxy],
    edits: [{ file: 'hypervisor/auth/register.ts', find: 'if (!session || session.userId !== existing.id) throw', replace: 'if (!session) throw' }],
  },
  {
    id: 'recovery-session-opens-the-proxy',
    what: 'sessionUser accepts any session, not only a user session: a recovery code alone reaches the account\'s sandboxes, not only the passkey registration',
    caughtBy: [line.authProxy],
    edits: [{ file: 'hypervisor/auth/auth.ts', find: "      return session?.kind === 'user' ? { userId", replace: '      return session ? { userId' }],
  },
  {
    id: 'session-cookie-max-age-in-ms',
    what: 'the session cookie\'s Max-Age is given the lifetime in milliseconds (the "/ 1000" dropped): browsers keep the cookie for the longest they allow instead of the session\'s lifetime',
    caughtBy: [line.authProxy],
    edits: [{ file: 'hypervisor/auth/context.ts', find: 'maxAgeSeconds: Math.floor(sessionLifetimeMs[kind] / 1000)', replace: 'maxAgeSeconds: sessionLifetimeMs[kind]' }],
  },
  {
    id: 'dev-redirect-drops-query',
    what: '/dev is redirected to /dev/ without its query string (the location built from the path alone)',
    caughtBy: [line.authProxy],
    edits: [{ file: 'hypervisor/proxy/route.ts', find: "return { kind: 'redirect', location: `/dev/${search}` };", replace: "return { kind: 'redirect', location: '/dev/' };" }],
  },
  {
    id: 'idle-secs-in-milliseconds',
    what: "the admin API's idle_secs is the milliseconds since the sandbox's last activity (the division by 1000 forgotten), a thousand times what the contract's field name says (round 13's miss)",
    caughtBy: [line.lifecycle],
    edits: [{ file: 'hypervisor/sandboxes/info.ts', find: 'Math.floor((Date.now() - entry.lastActivity) / 1000)', replace: 'Math.floor(Date.now() - entry.lastActivity)' }],
  },
  {
    id: 'dev-prefix-without-slash',
    what: "the dev route matches any path starting with the letters /dev instead of the /dev/ prefix (a slash forgotten), so /devices, /developer and the like go to the dev sandbox with the first four characters cut off instead of to live whole (round 13's miss)",
    caughtBy: [line.authProxy],
    edits: [{ file: 'hypervisor/proxy/route.ts', find: "  if (pathname.startsWith('/dev/')) return", replace: "  if (pathname.startsWith('/dev')) return" }],
  },
  {
    id: 'login-redirect-forgets-next',
    what: 'a browser without a session is sent to /login without ?next= (the deep link is dropped), so after signing in the user lands on / instead of the page they opened',
    caughtBy: [line.authProxy],
    edits: [{ file: 'hypervisor/auth/auth.ts', find: "        res.writeHead(303, { location: `/login${next}`, 'cache-control': 'no-store', 'content-length': 0 });", replace: "        void next;\n        res.writeHead(303, { location: '/login', 'cache-control': 'no-store', 'content-length': 0 });" }],
  },
  {
    id: 'login-page-open-redirect',
    what: "the login page follows ?next= wherever it points (the same-origin check dropped), so a link to /login?next=https://evil.example sends the freshly signed-in user to another site",
    caughtBy: [line.authProxy],
    edits: [{ file: 'hypervisor/auth/public/auth.js', find: "  return target.origin === location.origin ? target.href : '/';", replace: '  return target.href;' }],
  },
  {
    id: 'logout-leaves-cookie-in-browser',
    what: 'logout ends the server session but no longer sends the clearing Set-Cookie, so the dead session cookie stays in the browser',
    caughtBy: [line.authProxy],
    edits: [{ file: 'hypervisor/auth/context.ts', find: "  if (id) context.sessions.delete(id);\n  res.setHeader('set-cookie', clearedSessionCookie(securedByTls(context.settings)));", replace: '  if (id) context.sessions.delete(id);' }],
  },
  {
    id: 'websocket-pings-not-relayed',
    what: "the relay forwards the sandbox's pings to the client but no longer the client's pings to the sandbox (the handler dropped as \"ws answers pings itself\", which the relay turns off): a client's keep-alive ping is never answered",
    caughtBy: [line.webSocket],
    edits: [{ file: 'hypervisor/proxy/websocket-relay.ts', find: "    client.on('ping', (data) => sandbox.readyState === WebSocket.OPEN && sandbox.ping(data));\n", replace: '' }],
  },
  {
    id: 'websocket-frames-relayed-as-text',
    what: 'the relay sends every message on as text ("the desktop speaks JSON"): a binary frame reaches the other side as text, its bytes read as UTF-8',
    caughtBy: [line.webSocket],
    edits: [{ file: 'hypervisor/proxy/websocket-relay.ts', find: '        to.send(data, { binary: isBinary }, drained);', replace: '        to.send(data, { binary: false }, drained);' }],
  },
  {
    id: 'recovery-code-not-marked-used',
    what: 'a matching recovery code is taken as redeemed without the guarded update that marks it used (moved "into the session step" and lost): each code opens a recovery session again and again',
    caughtBy: [line.authProxy],
    edits: [{ file: 'hypervisor/auth/recovery-codes.ts', find: '      const redeemed = Number(markUsed.run(Date.now(), matchId).changes) === 1;', replace: '      const redeemed = matchId !== null;' }],
  },
  {
    id: 'document-left-partial',
    what: 'a run writes its document to <name>.partial and no longer renames it into place (the rename dropped as "the write is enough"): the run completes and the database serves the document, but the user\'s data directory holds only the .partial file',
    caughtBy: [line.userTask],
    edits: [{ file: 'hypervisor/workload/conductor.ts', find: '      renameSync(`${absolute}.partial`, absolute);\n', replace: '' }],
  },
  {
    id: 'websocket-places-kept-per-user',
    what: "a closed WebSocket gives back its place in the hypervisor-wide count but no longer in its user's (the per-user bookkeeping dropped as \"pruned elsewhere\"): after 64 connections in all, however many were closed, every new WebSocket of that user is closed with 1008 and the desktop loses its live channel",
    caughtBy: [line.webSocket],
    edits: [{ file: 'hypervisor/proxy/websocket-caps.ts', find: '      const left = (this.#byUser.get(userId) ?? 1) - 1;\n      if (left > 0) this.#byUser.set(userId, left);\n      else this.#byUser.delete(userId);\n', replace: '' }],
  },
  {
    id: 'session-cookie-found-only-first',
    what: 'the cookie reader compares each name untrimmed (the trim dropped "for speed"): the session is found only when its cookie comes first, so a user whose page set any other cookie for the origin is signed out',
    caughtBy: [line.authProxy],
    edits: [{ file: 'hypervisor/auth/cookies.ts', find: 'header.slice(start, eq).trim() === name', replace: 'header.slice(start, eq) === name' }],
  },
  {
    id: 'login-start-for-unknown-user',
    what: 'login/start\'s refusal is written "user && no passkeys" (the "!" lost while reordering the condition): for a name nobody registered it goes on and fails with a 500 instead of the 404 that tells the person to register',
    caughtBy: [line.authProxy],
    edits: [{ file: 'hypervisor/auth/login.ts', find: 'if (!user || passkeys.length === 0) throw', replace: 'if (user && passkeys.length === 0) throw' }],
  },
  {
    id: 'passkey-addition-replaces-recovery-codes',
    what: 'every registration counts as the first passkey, so adding a passkey issues a fresh set of recovery codes and drops the unused ones: the codes the user saved stop working without a word',
    caughtBy: [line.authProxy],
    edits: [{ file: 'hypervisor/auth/register.ts', find: '  const isFirstPasskey = !intent.existing;', replace: '  const isFirstPasskey = true;' }],
  },
  {
    id: 'auth-pages-without-security-headers',
    what: 'the auth pages are served without the security headers (spread only into the assets\' answer, "the pages are ours"): any site may frame /login and clickjack the passkey prompt, and the page runs with no CSP',
    caughtBy: [line.authProxy],
    edits: [{ file: 'hypervisor/auth/pages.ts', find: "'cache-control': 'no-store', ...securityHeaders });", replace: "'cache-control': 'no-store' });" }],
  },
  // f8p1b: round-8 misses
  {
    id: 'switch-row-reads-to-release-from-from',
    what: 'the switch history\'s row reader fills toRelease from the from_release column (a copy-paste slip in the mapping): every recorded swap/promote/rollback, read back from GET .../switches or in the switch answer, names the release it left (or 0) as the one it went to',
    caughtBy: [line.swap, line.knownGood],
    edits: [{ file: 'hypervisor/routing/switch-history.ts', find: 'toRelease: row.to_release === null ? null : Number(row.to_release),', replace: 'toRelease: row.to_release === null ? null : Number(row.from_release),' }],
  },
  {
    id: 'switch-log-names-the-release-it-left',
    what: 'the routing.switch log entry writes to_release from the release main ran before (attempt.fromRelease): the history is right, but the log an operator reads says every switch went to the release it left',
    caughtBy: [line.swap],
    edits: [{ file: 'hypervisor/routing/switch.ts', find: '      to_release: attempt.toRelease,', replace: '      to_release: attempt.fromRelease,' }],
  },
  {
    id: 'retained-list-skips-the-newest-known-good',
    what: 'the routing\'s retained() drops the first known-good release ("main runs it anyway", slice(1)): GET /admin/releases marks retained all but the newest of the last N known-good releases, so an operator sees the release they would roll forward to as prunable',
    caughtBy: [line.knownGood],
    edits: [{ file: 'hypervisor/routing/routing.ts', find: 'return retainedReleases(this.releases, this.#ctx.options.knownGoodRetain);', replace: 'return retainedReleases(this.releases, this.#ctx.options.knownGoodRetain).slice(1);' }],
  },
  // f8p1a: round-8 misses
  {
    id: 'sign-in-ends-only-recovery-sessions',
    what: 'a sign-in ends the session the request came with only when that was a recovery session (a user session "is already safe"): after a second login, or a recovery from a signed-in browser, the earlier choiros_session cookie keeps opening the proxy next to the new one (session fixation)',
    caughtBy: [line.authProxy],
    edits: [{ file: 'hypervisor/auth/context.ts', find: '  const previous = readCookie(req, sessionCookieName);\n', replace: "  const previous = currentSession(context, req)?.kind === 'recovery' ? readCookie(req, sessionCookieName) : undefined;\n" }],
  },
  {
    id: 'upgrade-refusal-drops-headers',
    what: "the raw-socket refusal of a WebSocket upgrade writes only its fixed head (the caller's headers \"not needed for a refusal\"): a WebSocket to a sandbox that cannot be started gets 503 without Retry-After, against the contract's \"503 with Retry-After\"",
    caughtBy: [line.authProxy],
    edits: [{ file: 'hypervisor/http/refuse-upgrade.ts', find: "    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),\n", replace: '' }],
  },
  // f9cli: the operator CLI (npm run hypervisor -- rollback|swap|pointers) is a checked promise
  {
    id: 'cli-rollback-drops-release',
    what: "the admin client sends release_id on a rollback only when it is a number (\"an id from the releases list\"): the CLI's --release, a string from argv, is dropped, so `rollback --user X --release N` rolls back to the previous known-good release (or is refused for want of one) and prints that as if N had been chosen",
    caughtBy: [line.knownGood],
    edits: [
      {
        file: 'hypervisor/admin-client/admin-client.ts',
        find: "/rollback`, this.switchBody(reason, 'rollback', releaseId === undefined ? {} : { release_id: releaseId }));",
        replace: "/rollback`, this.switchBody(reason, 'rollback', typeof releaseId === 'number' ? { release_id: releaseId } : {}));",
      },
    ],
  },
  {
    id: 'cli-pointers-ignores-history',
    what: "the CLI's pointers command asks for its fixed 10 latest switches whatever --history says: `pointers --user X --history 1` shows a history the operator did not ask for, which no longer matches GET .../switches?limit=1",
    caughtBy: [line.swap],
    edits: [{ file: 'hypervisor/cli/pointers.ts', find: "admin.switches(user, flags.history ?? '10')", replace: "admin.switches(user, '10')" }],
  },
  {
    id: 'cli-refusal-exits-0',
    what: "the CLI's admin-call wrapper prints the hypervisor's refusal and exits 0 (\"it was handled\"): a script running `rollback --release N` for a release the hypervisor refused carries on as if the rollback happened",
    caughtBy: [line.knownGood],
    edits: [{ file: 'hypervisor/routing/cli-support.ts', find: '      console.error(`hypervisor: ${error.message}`);\n      return 1;', replace: '      console.error(`hypervisor: ${error.message}`);\n      return 0;' }],
  },
  {
    id: 'cli-releases-list-hides-refused',
    what: "the CLI's `releases list` leaves out refused releases (\"nothing to act on\"): with --json it no longer answers what GET /admin/releases does, and an operator looking for why a deploy failed does not see the release",
    caughtBy: [line.knownGood],
    edits: [
      {
        file: 'hypervisor/cli/releases.ts',
        find: "'no releases yet', json: answer };",
        replace: "'no releases yet', json: { ...answer, releases: answer.releases.filter((r) => r.status !== 'refused') } };",
      },
    ],
  },
  {
    id: 'cli-deploy-ignores-json',
    what: "the CLI's deploy command passes json: false to the admin-call wrapper (copied from a command without --json): `deploy --json` prints the one-line summary, so a script reading the answer's JSON gets none",
    caughtBy: [line.swap],
    edits: [{ file: 'hypervisor/cli/deploy.ts', find: '    }, flags.json ?? false);', replace: '    }, false);' }],
  },
  // f9gaps: second-pass promise audit (admin API request handling, user deletion)
  {
    id: 'admin-405-without-allow',
    what: "the router's 405 for a method a path does not take leaves out the Allow header (\"the message names the methods\"): a client cannot learn the methods the path takes, as HTTP requires of a 405",
    caughtBy: [line.lifecycle],
    edits: [{ file: 'hypervisor/http/router.ts', find: ", {}, { allow: allowed.join(', ') });", replace: ');' }],
  },
  {
    id: 'json-body-type-check-inverted',
    what: 'readJson refuses with 415 only a body that declares no content-type (the test inverted): a form or text body is parsed as JSON and answered 400 "not valid JSON" instead of 415 "must be JSON"',
    caughtBy: [line.lifecycle],
    edits: [{ file: 'hypervisor/http/json.ts', find: '  if (type && !/^application\\/([\\w.+-]+\\+)?json\\b/i.test(type)) {', replace: '  if (!type && !/^application\\/([\\w.+-]+\\+)?json\\b/i.test(type)) {' }],
  },
  {
    id: 'json-array-taken-as-object',
    what: 'readJsonObject takes a JSON array as an object (typeof [] is "object"): an array body reaches the route, whose answer names index "0" as an unknown field instead of saying the body must be a JSON object',
    caughtBy: [line.lifecycle],
    edits: [{ file: 'hypervisor/http/json.ts', find: "  if (typeof value !== 'object' || value === null || Array.isArray(value)) {", replace: "  if (typeof value !== 'object' || value === null) {" }],
  },
  {
    id: 'routing-routes-ignore-unknown-fields',
    what: 'the routing admin routes ignore fields they do not take (lenient parsing): a misspelt "reasn" on a swap is dropped silently and the swap runs with the default reason, instead of a 400 naming the field',
    caughtBy: [line.lifecycle],
    edits: [{ file: 'hypervisor/routing/admin-routes.ts', find: '  const unknown = Object.keys(body).filter((field) => !fields.includes(field));', replace: '  const unknown: string[] = [];' }],
  },
  {
    id: 'switch-history-limit-zero-accepted',
    what: 'the switch history\'s ?limit= check forgets the lower bound: limit=0 answers 200 with an empty history instead of 400 "limit must be a whole number from 1 to 1000"',
    caughtBy: [line.lifecycle],
    edits: [{ file: 'hypervisor/routing/admin-routes.ts', find: 'if (!/^\\d+$/.test(raw) || limit < 1 || limit > 1000)', replace: 'if (!/^\\d+$/.test(raw) || limit > 1000)' }],
  },
  {
    id: 'json-answers-cacheable',
    what: 'sendJson leaves out cache-control: no-store: admin and auth JSON answers (sandbox lists, tokens of state) may be kept by a cache between the client and the hypervisor',
    caughtBy: [line.lifecycle],
    edits: [{ file: 'hypervisor/http/json.ts', find: "'content-length': Buffer.byteLength(text), 'cache-control': 'no-store', ...headers });", replace: "'content-length': Buffer.byteLength(text), ...headers });" }],
  },
  {
    id: 'user-deletion-keeps-data',
    what: "deleting a user leaves their data directory on the host (the rm dropped, the answer still says data_removed): a deleted user's runs and documents stay on disk",
    caughtBy: [line.lifecycle],
    edits: [{ file: 'hypervisor/http/user-deletion.ts', find: '  await rm(userDir, { recursive: true, force: true });\n', replace: '' }],
  },
  {
    id: 'user-deletion-leaves-sandbox-running',
    what: "removing a sandbox (a user's deletion) forgets its record without stopping it: the deleted user's container keeps running, unknown to the admin API",
    caughtBy: [line.lifecycle],
    edits: [{ file: 'hypervisor/sandboxes/manager.ts', find: "      if (!entry) return false;\n      await this.stopNow(entry, reason, 'stopped');\n      this.entries.delete(sandboxId(key));", replace: "      if (!entry) return false;\n      this.entries.delete(sandboxId(key));" }],
  },
  {
    id: 'user-deletion-needs-an-account',
    what: 'a user deletion answers 404 "there is no user" whenever there is no account (sandboxes started through the admin API have none), after removing their sandboxes and data anyway: the admin is told nothing was there',
    caughtBy: [line.lifecycle],
    edits: [{ file: 'hypervisor/http/user-deletion.ts', find: '  if (!account && !sessionsEnded && !sandboxesRemoved.length && !switchesRemoved && !dataRemoved) return undefined;', replace: '  if (!account) return undefined;' }],
  },
  {
    id: 'usernames-unique-only-in-one-case',
    what: 'the auth_users table drops COLLATE NOCASE from username: "ALICE" is a new account next to "alice" (a look-alike of an existing user, and the recovery and login look-ups stop finding the account typed in another case)',
    caughtBy: [line.authProxy],
    edits: [{ file: 'hypervisor/auth/schema.ts', find: '     username TEXT NOT NULL UNIQUE COLLATE NOCASE,', replace: '     username TEXT NOT NULL UNIQUE,' }],
  },
  {
    id: 'user-deletion-skips-user-id-rule',
    what: 'DELETE /admin/users/:userId takes the path segment as it comes (the user id rule is "checked further down"): a malformed id is answered 500 by the data-dir guard instead of the 400 naming the rule',
    caughtBy: [line.lifecycle],
    edits: [{ file: 'hypervisor/http/admin-users.ts', find: "    return parseUserId(params.userId ?? '');", replace: "    return params.userId ?? '';" }],
  },
  {
    id: 'oversized-headers-answered-400',
    what: 'the connection guard answers oversized request headers with the generic 400 (the HPE_HEADER_OVERFLOW case dropped): a client is not told its headers (a cookie jar grown too big) are what is wrong',
    caughtBy: [line.lifecycle],
    edits: [{ file: 'hypervisor/http/connection-guard.ts', find: "    } else if (error.code === 'HPE_HEADER_OVERFLOW') {\n      answerAndClose(socket, plainAnswer('431 Request Header Fields Too Large', 'the request headers are too large'));\n", replace: '' }],
  },
  {
    id: 'admin-users-created-at-read-as-seconds',
    what: "GET /admin/users reads the account's created_at (epoch milliseconds) as seconds: every account is listed as created tens of thousands of years ahead",
    caughtBy: [line.authProxy],
    edits: [{ file: 'hypervisor/http/admin-users.ts', find: 'created_at: new Date(Number(row.created_at)).toISOString()', replace: 'created_at: new Date(Number(row.created_at) * 1000).toISOString()' }],
  },
  {
    id: 'admin-users-prefix-matched-anywhere',
    what: "GET /admin/users?prefix=P lists accounts whose username contains P anywhere (instr instead of a prefix): the gate runner's sweep of its own gate- users would take other people's accounts named like x-gate-y",
    caughtBy: [line.authProxy],
    edits: [{ file: 'hypervisor/http/admin-users.ts', find: "WHERE substr(username, 1, length(?)) = ? ORDER BY", replace: 'WHERE instr(username, ?) > 0 OR length(?) = 0 ORDER BY' }],
  },
  {
    id: 'user-deletion-keeps-cached-sessions',
    what: "deleting a user leaves ending their sessions to the database's ON DELETE CASCADE: the session cache still knows the deleted user's cookies (which keep opening the proxy), and the answer says no session was ended",
    caughtBy: [line.authProxy],
    edits: [{ file: 'hypervisor/http/user-deletion.ts', find: '  const sessionsEnded = deps.endSessionsOf(userId);', replace: '  const sessionsEnded = 0;' }],
  },
  {
    id: 'credential-type-not-checked',
    what: 'the WebAuthn credential parser no longer checks type "public-key" (it sets it anyway when rebuilding the credential): a malformed answer is refused further on with a message about its response fields, not the field that is wrong',
    caughtBy: [line.authProxy],
    edits: [{ file: 'hypervisor/auth/credentials.ts', find: "  if (body.type !== 'public-key') throw new HttpError(400, 'type must be \"public-key\" (send the credential as @simplewebauthn/browser returns it)');\n", replace: '' }],
  },
  // f9m2: round-9 misses
  {
    id: 'slow-client-dropped-unanswered',
    what: "the connection guard drops a client too slow to send its request without a word (its timeout handled with the sockets it cannot write to): the client sees its connection closed with no 408 naming the time allowed, and no http.request_timeout line is logged",
    caughtBy: [line.authProxy],
    edits: [{ file: 'hypervisor/http/connection-guard.ts', find: '    if (!socket.writable || answering?.headersSent) {', replace: "    if (!socket.writable || answering?.headersSent || error.code === 'ERR_HTTP_REQUEST_TIMEOUT') {" }],
  },
  // f9m1: round-9 misses
  {
    id: 'gateway-failures-answered-as-unavailable',
    what: "the relay answers every gateway failure (502: refused or failed connection) as 503 with Retry-After: 1, read as \"the sandbox may be restarting\", so a running sandbox that refuses the connection looks like an on-demand start that failed, to clients and to the 5xx-by-class metrics",
    caughtBy: [line.authProxy],
    edits: [{ file: 'hypervisor/proxy/http-relay.ts', find: '    if (req.complete) replyError(res, status, message);', replace: "    if (status === 502) replyError(res, 503, message, { 'retry-after': '1' });\n    else if (req.complete) replyError(res, status, message);" }],
  },
  // f9m3: round-9 misses
  {
    id: 'rollback-all-drops-failed-users',
    what: "rolling back every user leaves out the users whose rollback was refused (the catch records nothing): the answer lists only those that rolled back, so it is 200 and neither the operator nor the CLI learns that a user stayed on the bad release",
    caughtBy: [line.processFallback],
    edits: [{ file: 'hypervisor/routing/routing.ts', find: '          results.push({ userId, error });', replace: '          void error;' }],
  },
  {
    id: 'recovery-client-limit-keyed-by-client-and-account',
    what: "the per-client recovery limiter is keyed by the client address AND the username typed: each (client, account) pair gets 20 failures, so one client guessing codes across many accounts is never refused by the per-client limit (only each account's own 5 apply)",
    caughtBy: [line.authProxy],
    edits: [{ file: 'hypervisor/auth/recovery.ts', find: '[context.limits.recoveryByClient, client],', replace: '[context.limits.recoveryByClient, `${client} ${account}`],' }],
  },
  // session 6: rollback --all --json
  {
    id: 'rollback-all-json-prints-nothing',
    what: "with --json, `rollback --all` answered 422 prints only the reason on stderr: stdout stays empty, so a script reading the JSON cannot tell which users rolled back and which FAILED",
    caughtBy: [line.processFallback],
    edits: [{ file: 'hypervisor/routing/cli-support.ts', find: '      if (json) console.log(JSON.stringify(result.json, null, 2));\n', replace: '' }],
  },
  // a10p1: coverage-guided audit (issue #11, round 10)
  {
    id: 'websocket-refused-connection-answered-503',
    what: "the WebSocket relay answers a sandbox that refuses the connection with 503 (\"may be restarting\") instead of the contract's 502: a running sandbox that stopped listening looks, to a WebSocket client, like an on-demand start that failed, while its HTTP twin answers 502",
    caughtBy: [line.authProxy],
    edits: [{ file: 'hypervisor/proxy/websocket-relay.ts', find: '      const status = timedOut ? 504 : 502;', replace: "      const status = timedOut ? 504 : error.code === 'ECONNREFUSED' ? 503 : 502;" }],
  },
  {
    id: 'proxy-body-limit-read-in-kib',
    what: "the proxy compares a request's declared Content-Length with its body limit in KiB (length / 1024): a body over 32 MiB is no longer refused with 413 by its declared length, it is relayed to the sandbox (which waits for every byte of it)",
    caughtBy: [line.authProxy],
    edits: [{ file: 'hypervisor/proxy/http-relay.ts', find: '    if (Number(length) > limits.maxRequestBodyBytes) {', replace: '    if (Number(length) / 1024 > limits.maxRequestBodyBytes) {' }],
  },
  {
    id: 'websocket-per-user-cap-off-by-one',
    what: 'the per-user WebSocket cap admits one socket past its limit (mine > limit instead of >=): a user holds 65 WebSockets at once where the limit is 64',
    caughtBy: [line.webSocket],
    edits: [{ file: 'hypervisor/proxy/websocket-caps.ts', find: '    if (mine >= this.#perUser) return', replace: '    if (mine > this.#perUser) return' }],
  },
  {
    id: 'admin-sandbox-read-ignores-role',
    what: "GET /admin/sandboxes/:userId/:role answers the user's first sandbox whatever role the path names: asked for a role the user has no sandbox in, it answers 200 with the other role's, not 404",
    caughtBy: [line.lifecycle],
    edits: [{ file: 'hypervisor/http/admin-sandboxes.ts', find: '        const info = sandboxes.get(sandboxKeyFrom(params));', replace: '        const key = sandboxKeyFrom(params);\n        const info = sandboxes.list().find((sandbox) => sandbox.userId === key.userId);' }],
  },
  {
    id: 'sandbox-start-image-reference-unchecked',
    what: 'a sandbox start no longer checks that its image is an image reference (only that it is a string): "Not An Image!" goes to podman, and the operator gets a start failure (503) instead of a 400 saying what an image reference is',
    caughtBy: [line.lifecycle],
    edits: [{ file: 'hypervisor/http/admin-sandboxes.ts', find: "  if (image !== undefined && (typeof image !== 'string' || !isImageReference(image))) {", replace: "  if (image !== undefined && typeof image !== 'string' && !isImageReference(String(image))) {" }],
  },
  {
    id: 'release-missing-image-answered-404',
    what: "a release naming an image podman's store does not hold is refused as release_not_found (404) instead of invalid_input (400): the operator reads \"not found\" as the release, not the image it must build first",
    caughtBy: [line.knownGood],
    edits: [{ file: 'hypervisor/routing/release-image.ts', find: "      throw new RoutingError('invalid_input', `image \"${reference}\" is not in podman's image store", replace: "      throw new RoutingError('release_not_found', `image \"${reference}\" is not in podman's image store" }],
  },
  {
    id: 'promote-with-nothing-deployed-answered-404',
    what: 'a promote with nothing deployed to the standby slot is answered 404 (no_release mapped as not found) instead of the 409 conflict the admin API gives for a state that must change first (deploy a release, then promote)',
    caughtBy: [line.knownGood],
    edits: [{ file: 'hypervisor/routing/errors.ts', find: '  no_release: 409,', replace: '  no_release: 404,' }],
  },
  {
    id: 'username-length-unchecked',
    what: 'the auth fields no longer check their length (only the pattern): a username of any length is registered, past the 64 characters the rule names',
    caughtBy: [line.authProxy],
    edits: [{ file: 'hypervisor/auth/fields.ts', find: '  if (!trimmed || trimmed.length > rule.max || (rule.pattern && !rule.pattern.test(trimmed))) {', replace: '  if (!trimmed || (rule.pattern && !rule.pattern.test(trimmed))) {' }],
  },
  {
    id: 'config-error-exits-1',
    what: 'the hypervisor exits 1 (a failed start) on a bad setting instead of 2 (a usage/configuration error), so systemd and the operator cannot tell a bad configuration from a start that failed',
    caughtBy: [line.runtimeCommands],
    edits: [{ file: 'hypervisor/cli/serve.ts', find: '      console.error(`hypervisor: invalid configuration: ${error.message}`);\n      return 2;', replace: '      console.error(`hypervisor: invalid configuration: ${error.message}`);\n      return 1;' }],
  },
  {
    id: 'cli-release-config-split-at-last-equals',
    what: "the operator CLI's `releases create --config NAME=VALUE` splits at the last \"=\": a value holding \"=\" makes a setting name the hypervisor refuses (or, with a valid-looking name, the wrong setting), so the release the operator asked for is not created as named",
    caughtBy: [line.knownGood],
    edits: [{ file: 'hypervisor/cli/releases.ts', find: "      const at = pair.indexOf('=');", replace: "      const at = pair.lastIndexOf('=');" }],
  },
  {
    id: 'websocket-at-dev-answered-redirect',
    what: 'a WebSocket upgrade at /dev (no slash) is answered with the HTTP route\'s 308 to /dev/, which no WebSocket client follows, instead of 404 naming /dev/',
    caughtBy: [line.authProxy],
    edits: [{ file: 'hypervisor/proxy/proxy.ts', find: '        refuseUpgrade(socket, 404, `no WebSocket at ${req.url}: use ${routed.location}`);', replace: '        refuseUpgrade(socket, 308, `no WebSocket at ${req.url}: use ${routed.location}`, { location: routed.location });' }],
  },
  {
    id: 'cli-unknown-releases-action-lists',
    what: "the operator CLI's `releases` takes an action it does not know for `list`: a mistyped `releases frobnicate` (or `releases prun`) prints the list and exits 0, as if it had done what was asked",
    caughtBy: [line.knownGood],
    edits: [{ file: 'hypervisor/cli/releases.ts', find: "    const [action = 'list', ...rest] = args[0]?.startsWith('--') ? ['list', ...args] : args;", replace: "    const [given = 'list', ...rest] = args[0]?.startsWith('--') ? ['list', ...args] : args;\n    const action = ['create', 'known-good', 'prune'].includes(given) ? given : 'list';" }],
  },
  // round 11 (unseen) misses, each now checked by its line
  {
    id: 'rollback-all-drops-named-release',
    what: "the operator CLI's `rollback --all --release ID` does not pass the release on (only the --user branch does), so every user goes back to the previous known-good release instead of the one the operator named",
    caughtBy: [line.processFallback],
    edits: [{ file: 'hypervisor/cli/rollback.ts', find: 'await admin.rollbackAll(reason, flags.release).catch(', replace: 'await admin.rollbackAll(reason).catch(' }],
  },
  {
    id: 'run-list-oldest-first',
    what: 'GET /conductor/runs without a desktop_id lists runs oldest first (ASC where the README promises newest first), so with its default limit the newest runs are the ones cut off',
    caughtBy: [line.userTask],
    edits: [{ file: 'hypervisor/workload/run-store.ts', find: "'SELECT * FROM runs ORDER BY created_at DESC, rowid DESC LIMIT ?'", replace: "'SELECT * FROM runs ORDER BY created_at ASC, rowid ASC LIMIT ?'" }],
  },
  // a11-p1api: documented orderings, defaults, limits and error codes of the admin and workload APIs
  {
    id: 'every-users-switches-oldest-first',
    what: 'GET /admin/switches (every user) lists the history oldest first (the DESC kept only in the per-user query), so with ?limit= an operator sees the oldest switches instead of the newest',
    caughtBy: [line.swap],
    edits: [{ file: 'hypervisor/routing/switch-history.ts', find: "'SELECT * FROM switches ORDER BY id DESC LIMIT ?'", replace: "'SELECT * FROM switches ORDER BY id LIMIT ?'" }],
  },
  {
    id: 'routing-refusals-without-code',
    what: "the admin API's routing refusals keep their status and message but drop the documented `code` (release_not_found, no_known_good, ...), so a client that branches on the code sees none",
    caughtBy: [line.knownGood],
    edits: [{ file: 'hypervisor/routing/admin-routes.ts', find: 'throw new HttpError(error.status, error.message, { code: error.code });', replace: 'throw new HttpError(error.status, error.message);' }],
  },
  {
    id: 'unknown-release-answered-409',
    what: "an unknown release id is refused as no_release (409, the promote's \"nothing deployed\") instead of release_not_found (404), so an operator is told to deploy instead of that the id does not exist",
    caughtBy: [line.knownGood],
    edits: [{ file: 'hypervisor/routing/releases.ts', find: "if (!release) throw new RoutingError('release_not_found',", replace: "if (!release) throw new RoutingError('no_release'," }],
  },
  {
    id: 'run-list-limit-unbounded',
    what: 'GET /conductor/runs takes any limit of 1 or more (the upper bound of 200 dropped), so one request can make a sandbox read and serialise its whole run history',
    caughtBy: [line.userTask],
    edits: [{ file: 'hypervisor/workload/routes.ts', find: 'limit < 1 || limit > maxListedRuns)', replace: 'limit < 1)' }],
  },
  {
    id: 'output-mode-defaults-to-auto',
    what: "POST /conductor/execute without output_mode records the run as `auto` instead of the documented default markdown_report_to_writer",
    caughtBy: [line.userTask],
    edits: [{ file: 'hypervisor/workload/execute-request.ts', find: "?? 'markdown_report_to_writer' };", replace: "?? 'auto' };" }],
  },
  {
    id: 'cli-rollback-drops-reason',
    what: "the operator CLI's `rollback --user X` sends its default reason instead of the --reason the operator gave, so the switch history says \"rollback from the CLI\" and not why",
    caughtBy: [line.knownGood],
    edits: [{ file: 'hypervisor/cli/rollback.ts', find: 'const answer = await admin.rollback(flags.user, reason, flags.release);', replace: "const answer = await admin.rollback(flags.user, 'rollback from the CLI', flags.release);" }],
  },
  {
    id: 'cli-rollback-user-and-all-accepted',
    what: "the operator CLI's `rollback` checks only that one of --user or --all is given, so `--user X --all` rolls back X alone and exits 0 instead of refusing the ambiguous command with exit 2",
    caughtBy: [line.knownGood],
    edits: [{ file: 'hypervisor/cli/rollback.ts', find: "(f) => (Boolean(f.user) === Boolean(f.all) ? 'give exactly one of --user USER_ID or --all' : undefined)", replace: "(f) => (!f.user && !f.all ? 'give exactly one of --user USER_ID or --all' : undefined)" }],
  },
  // round 12 (unseen) miss, now checked by its line
  {
    id: 'close-codes-only-private-range',
    what: "the workload takes a /ws close request only for 1000 or 4000-4999, mistaking the private range for the whole application range RFC 6455 lets an endpoint send: a registered code (3000-3999) gets an error frame and the connection stays open",
    caughtBy: [line.webSocket],
    edits: [{ file: 'hypervisor/workload/ws-messages.ts', find: '(code < 3000 || code > 4999)', replace: '(code < 4000 || code > 4999)' }],
  },
  // round 13 (unseen) misses, now checked by their lines
  {
    id: 'log-tail-keeps-oldest-lines',
    what: "the log tail a failed start reports keeps the first lines of the log's last 16 KiB instead of the last ones, so the 503's log_tail and the sandbox.failed line show what the sandbox wrote early, not why it ended (a process sandbox: podman tails a container's log itself)",
    caughtBy: [line.processFallback],
    edits: [{ file: 'hypervisor/sandboxes/log-tail.ts', find: ".split('\\n').slice(-lines).join('\\n')", replace: ".split('\\n').slice(0, lines).join('\\n')" }],
  },
  {
    id: 'failed-sandbox-cannot-be-started',
    what: 'the allowed-transition table lets a failed sandbox go only to stopped, so neither an admin start nor a request starts a sandbox whose start failed or that crashed past its restart limit: it must be stopped first',
    caughtBy: [line.lifecycle],
    edits: [{ file: 'hypervisor/sandboxes/allowed-transitions.ts', find: "  failed: ['starting', 'stopped'],", replace: "  failed: ['stopped']," }],
  },
  // a13-edge: the hypervisor's edge (forwarding headers, per-client limits, the 429's Retry-After)
  {
    id: 'forwarded-for-appends-client-chain',
    what: "the proxy appends the client's address to the X-Forwarded-For the request came with, as a proxy in a chain does: with no trusted proxy in front, whatever a client writes there (a forged address) reaches the sandbox as the leftmost hop",
    caughtBy: [line.authProxy],
    edits: [{ file: 'hypervisor/proxy/headers.ts', find: "  out['x-forwarded-for'] = forwarding.clientAddress;", replace: "  // Proxies append the peer they saw to the chain the request came with.\n  out['x-forwarded-for'] = [req.headers['x-forwarded-for'] ?? [], forwarding.clientAddress].flat().join(', ');" }],
  },
  {
    id: 'x-real-ip-passed-to-sandbox',
    what: "X-Real-IP is left out of the forwarding headers the proxy drops (it sets only X-Forwarded-*), so a client's own X-Real-IP reaches the sandbox as if the hypervisor had vouched for it",
    caughtBy: [line.authProxy],
    edits: [{ file: 'hypervisor/proxy/headers.ts', find: "  'x-real-ip',\n", replace: '' }],
  },
  {
    id: 'forwarded-proto-taken-from-the-client',
    what: "the proxy honours an X-Forwarded-Proto the request came with (meant for a TLS terminator in front) before the relying party's scheme, so any client tells the sandbox, over HTTP and on the WebSocket leg, which scheme it used",
    caughtBy: [line.authProxy],
    edits: [{ file: 'hypervisor/proxy/proxy.ts', find: "    proto: options.forwardedProto?.() ?? (", replace: "    proto: [req.headers['x-forwarded-proto'] ?? []].flat()[0] ?? options.forwardedProto?.() ?? (" }],
  },
  {
    id: 'failure-retry-after-in-ms',
    what: 'the failure limiter computes Retry-After from the window in milliseconds without converting, so a refused login or recovery is told to wait about 900000 s instead of at most 900',
    caughtBy: [line.authProxy],
    edits: [{ file: 'hypervisor/auth/rate-limit.ts', find: 'Math.ceil((oldest + limit.windowMs - now) / 1000)', replace: 'Math.ceil(oldest + limit.windowMs - now)' }],
  },
  {
    id: 'failure-retry-after-counts-elapsed',
    what: 'the failure limiter answers Retry-After with the seconds since the oldest counted failure instead of the seconds until it leaves the window, so a client refused right after its failures is told to retry in a second or two and is refused again',
    caughtBy: [line.authProxy],
    edits: [{ file: 'hypervisor/auth/rate-limit.ts', find: 'Math.ceil((oldest + limit.windowMs - now) / 1000)', replace: 'Math.ceil((now - oldest) / 1000)' }],
  },
  {
    id: 'connection-limit-off-by-one',
    what: 'the connection guard refuses a client once its count reaches HYPERVISOR_CONNECTIONS_PER_CLIENT instead of once it passes it, so a client gets one connection fewer than the documented limit',
    caughtBy: [line.authProxy],
    edits: [{ file: 'hypervisor/http/connection-guard.ts', find: '    if (count > limits.connectionsPerClient) {', replace: '    if (count >= limits.connectionsPerClient) {' }],
  },
  {
    id: 'trusted-proxies-capped',
    what: "the connection guard counts a trusted proxy's connections like any client's, so behind Caddy every user shares one address's HYPERVISOR_CONNECTIONS_PER_CLIENT places and the next connection of anyone is refused 503",
    caughtBy: [line.authProxy],
    edits: [{ file: 'hypervisor/http/connection-guard.ts', find: '    if (trusted.has(client)) return;\n', replace: '' }],
  },
  {
    id: 'login-attempt-counted-after-parsing',
    what: "login/finish parses the passkey answer before counting the attempt against the client's login budget, so malformed answers (a client hammering the endpoint) cost nothing and are never refused with 429",
    caughtBy: [line.authProxy],
    edits: [
      {
        file: 'hypervisor/auth/login.ts',
        find: "  const attempt = beginAttempt('login', [[context.limits.loginByClient, client]]);\n  const assertion = parseAuthenticationResponse(await readJsonObject(req));",
        replace: "  const assertion = parseAuthenticationResponse(await readJsonObject(req));\n  const attempt = beginAttempt('login', [[context.limits.loginByClient, client]]);",
      },
    ],
  },
  {
    id: 'forwarded-for-read-from-the-left',
    what: "behind a trusted proxy the client address is read from X-Forwarded-For's left end (the \"original client\" as many guides say), so whatever a client writes there itself is believed: it picks its own address for the login and recovery budgets, the audit and the sandbox's X-Forwarded-For",
    caughtBy: [line.authProxy],
    edits: [{ file: 'hypervisor/http/client-address.ts', find: '    for (const hop of hops.reverse()) {', replace: '    for (const hop of hops) {' }],
  },
  {
    id: 'forwarded-for-believed-without-a-proxy',
    what: "with no trusted proxy configured the hypervisor takes the client's own X-Forwarded-For as its address when there is one (a hint for a proxy someone forgot to list), so any client chooses the address its failures are counted under and the sandbox is told",
    caughtBy: [line.authProxy],
    edits: [{ file: 'hypervisor/http/client-address.ts', find: '  if (trustedProxies.length === 0) return socketAddress;', replace: "  if (trustedProxies.length === 0) return (req) => plainAddress(String(req.headers['x-forwarded-for'] ?? '').split(',')[0]?.trim() || socketAddress(req));" }],
  },
  // a13-gaps: promises a previous audit named and left open
  {
    id: 'cli-promote-drops-reason',
    what: "the operator CLI's `promote --user X --reason TEXT` sends its default reason instead of the one given, so the switch history says \"promote from the CLI\" and not why",
    caughtBy: [line.swap],
    edits: [{ file: 'hypervisor/cli/promote.ts', find: "const answer = await admin.promote(user, flags.reason ?? 'promote from the CLI');", replace: "const answer = await admin.promote(user, 'promote from the CLI');" }],
  },
  {
    id: 'sandbox-stop-duration-in-seconds',
    what: "the sandbox.stop log line gives the stop's duration in seconds, as the stop histogram observes it, under the name duration_ms (a 400 ms stop logs duration_ms 0): below every bound from above",
    caughtBy: [line.transitionLogs],
    edits: [{ file: 'hypervisor/sandboxes/manager.ts', find: "this.transition(entry, 'sandbox.stop', { duration_ms: durationMs, reason,", replace: "this.transition(entry, 'sandbox.stop', { duration_ms: Math.round(durationMs / 1000), reason," }],
  },
  {
    id: 'failed-sandbox-waits-for-an-admin',
    what: "the proxy's on-demand start refuses every failed sandbox, not only one past its restart limit: a sandbox whose start failed once (its image not there yet) answers its user 503 until an admin starts it",
    caughtBy: [line.authProxy],
    edits: [{ file: 'hypervisor/sandboxes/manager.ts', find: '    if (entry && this.supervisor.gaveUp(entry)) throw new SandboxUnavailableError(key, this.supervisor.gaveUpReason(entry));\n    try {', replace: "    if (entry && this.supervisor.gaveUp(entry)) throw new SandboxUnavailableError(key, this.supervisor.gaveUpReason(entry));\n    if (entry?.record.state === 'failed') throw new SandboxUnavailableError(key, entry.record.lastError ?? 'it failed: an admin start runs it again');\n    try {" }],
  },
  {
    id: 'podman-log-tail-keeps-oldest-lines',
    what: "the podman runtime reads the container's whole log and keeps its first lines, so a failed container start's 503 log_tail and sandbox.failed line show what it wrote early, not why it ended",
    caughtBy: [line.lifecycle],
    edits: [
      { file: 'hypervisor/sandboxes/podman-runtime.ts', find: "const child = podmanSpawn(['logs', '--tail', String(lines), target], this.binary);", replace: "const child = podmanSpawn(['logs', target], this.binary);" },
      { file: 'hypervisor/sandboxes/podman-runtime.ts', find: "child.once('close', () => resolve(lastLines(text, lines)));", replace: "child.once('close', () => resolve(text.split('\\n').slice(0, lines).join('\\n')));" },
    ],
  },
  {
    id: 'run-list-default-is-the-maximum',
    what: 'GET /conductor/runs without limit answers up to the maximum (200) instead of the documented default of 50',
    caughtBy: [line.userTask],
    edits: [{ file: 'hypervisor/workload/routes.ts', find: '  if (raw === null) return 50;', replace: '  if (raw === null) return maxListedRuns;' }],
  },
  // fix13-ws-db: round 13 misses
  {
    id: 'desktop-state-lists-every-desktop',
    what: "the desktop_state answering a subscribe lists the sandbox's newest runs of every desktop, not only the subscribed desktop_id's",
    caughtBy: [line.webSocket],
    edits: [{ file: 'hypervisor/workload/ws-hub.ts', find: 'this.#store.list({ desktopId: message.desktop_id, limit: desktopStateRuns })', replace: 'this.#store.list({ limit: desktopStateRuns })' }],
  },
  {
    id: 'database-file-world-readable',
    what: 'the SQLite database (the hypervisor\'s sessions, passkeys and recovery code hashes; a sandbox\'s runs) is made 0644, readable by every user of the host, and its -wal and -shm with it',
    caughtBy: [line.envMountsPorts],
    edits: [{ file: 'hypervisor/store/database.ts', find: 'chmodSync(file, 0o600);', replace: 'chmodSync(file, 0o644);' }],
  },
  // fix14-lines2: round 14 defects caught only by unit tests, now by a gate line too
  {
    id: 'webauthn-challenge-replayable',
    what: 'consuming a WebAuthn challenge reads it instead of deleting it: a challenge stays usable after its first answer, so a second answer to one login challenge (a replayed or re-signed response) signs in again',
    caughtBy: [line.authProxy],
    edits: [{ file: 'hypervisor/auth/challenges.ts', find: "db.prepare('DELETE FROM auth_challenges WHERE challenge = ? AND purpose = ? RETURNING payload, expires_at')", replace: "db.prepare('SELECT payload, expires_at FROM auth_challenges WHERE challenge = ? AND purpose = ?')" }],
  },
  {
    id: 'chunked-body-limit-per-chunk',
    what: "the proxy's count of a chunked request body is reset to each chunk's size instead of added up: a body streamed without a length in small chunks passes any limit and reaches the sandbox",
    caughtBy: [line.authProxy],
    edits: [{ file: 'hypervisor/proxy/http-relay.ts', find: '      seen += chunk.length;', replace: '      seen = chunk.length;' }],
  },
  {
    id: 'prune-keeps-refused-candidates',
    what: 'prune keeps every release newer than the newest known-good one as a candidate still to be judged, a refused one included: the image of a release refused at its deploy is never removed',
    caughtBy: [line.knownGood],
    edits: [{ file: 'hypervisor/routing/retention.ts', find: " && release.id > newestKnownGood && release.status !== 'refused') return", replace: ' && release.id > newestKnownGood) return' }],
  },
  // fix14-lines: round 14 misses
  {
    id: 'health-uptime-in-milliseconds',
    what: "the hypervisor's /health reports uptime_s in milliseconds since it started, not whole seconds (a hypervisor up 5 s says 5000)",
    caughtBy: [line.lifecycle],
    edits: [{ file: 'hypervisor/http/health.ts', find: 'uptime_s: Math.floor((Date.now() - source.startedAt) / 1000),', replace: 'uptime_s: Math.floor(Date.now() - source.startedAt),' }],
  },
  {
    id: 'cli-swap-summary-slots-crossed',
    what: "the operator CLI's `swap` summary (without --json) says main points where dev does and dev where main does, the opposite of the admin API's answer",
    caughtBy: [line.swap],
    edits: [{ file: 'hypervisor/cli/swap.ts', find: 'main -> ${answer.main} slot, dev -> ${answer.dev} slot', replace: 'main -> ${answer.dev} slot, dev -> ${answer.main} slot' }],
  },
  {
    id: 'known-good-time-overwritten',
    what: "marking or promoting a release that is known-good already moves its known_good_at to now, so it jumps ahead in the known-good list (rollback's choice, retention) as if it had first served just now",
    caughtBy: [line.knownGood],
    edits: [{ file: 'hypervisor/routing/releases.ts', find: 'SET known_good_at = coalesce(known_good_at, ?) WHERE id = ?', replace: 'SET known_good_at = coalesce(?, known_good_at) WHERE id = ?' }],
  },
  {
    id: 'cleared-last-error-not-persisted',
    what: "a start that clears a sandbox's last_error (null) is not written to the database, so after a hypervisor restart the sandbox, running fine, reports its old error again",
    caughtBy: [line.lifecycle],
    edits: [{ file: 'hypervisor/sandboxes/store.ts', find: "    if (patch.lastError !== undefined) set('last_error', patch.lastError);", replace: "    if (patch.lastError) set('last_error', patch.lastError);" }],
  },
  // round 15 misses
  {
    id: 'origin-prefix-matched',
    what: "the CSRF guard takes any Origin that begins with the hypervisor's own as its own (http://localhost:9090.evil.example, or another port's digits appended): cross-site POSTs and WebSocket upgrades from such a site get through with the user's cookie",
    caughtBy: [line.authProxy],
    edits: [{ file: 'hypervisor/auth/origin.ts', find: '  if (origin !== rpOrigin) return', replace: '  if (!origin.startsWith(rpOrigin)) return' }],
  },
];
