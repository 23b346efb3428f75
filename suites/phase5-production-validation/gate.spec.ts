import { roleShown } from '../../fixtures/desktop-page.ts';
import { addVirtualAuthenticator } from '../../fixtures/passkey.ts';
import { test, expect } from '../../fixtures/production-test.ts';
import { rehearseRollback, trafficAround, underTraffic } from '../../fixtures/rollback-rehearsal.ts';
import { guessRecoveryCodes, recoveryGuessBound, refuseSpentClientBudget } from '../../fixtures/recovery-guessing.ts';
import { loginWithPasskey, sessionCookie } from '../../fixtures/user-session.ts';
import { sessionCookieName } from '../../hypervisor/auth/cookies.ts';

/** The longest a recovery session may live (choiros-contract.md: it only lets its holder register a new passkey, for a short while). */
const recoveryLifetimeMs = 10 * 60_000;

test('Auth/register/login/recovery flow passes.', async ({ hostTarget: target, hostRequests: request, page, passkey, gateUsers, evidence }) => {
  await evidence.provenOn(target.provenOn);

  const user = await test.step('register with a passkey: ten recovery codes are shown once', async () => {
    const registered = await gateUsers.register(page);
    expect(registered.recoveryCodes).toHaveLength(10);
    expect(await passkey.credentials()).toHaveLength(1);
    await evidence.screenshot(page, '1-registered-recovery-codes');
    return registered;
  });

  await test.step('log out: the proxy is closed to the browser, and the old session cookie, replayed, opens nothing', async () => {
    const session = await sessionCookie(page, target.url);
    expect(session, 'the session cookie the browser holds before logging out').toBeDefined();
    const logout = await request.post(`${target.url}/auth/logout`, { maxRedirects: 0 });
    expect(logout.status()).toBe(303);
    expect(await (await request.get(`${target.url}/auth/me`)).json()).toMatchObject({ authenticated: false });
    // The browser sends no cookie after logout, so the check above passes even if the server kept the
    // session: put the old cookie back (a copy someone kept) and the server must still refuse it.
    await page.context().addCookies([session!]);
    const replayed = await request.get(`${target.url}/auth/me`);
    expect(await replayed.json(), 'GET /auth/me with the logged-out session cookie replayed').toMatchObject({ authenticated: false });
    await page.context().clearCookies({ name: session!.name });
  });

  await test.step('log in with the passkey', async () => {
    await loginWithPasskey(page, target.url, user.username);
    expect(await (await request.get(`${target.url}/auth/me`)).json()).toMatchObject({ authenticated: true, user_id: user.userId });
    await request.post(`${target.url}/auth/logout`, { maxRedirects: 0 });
  });

  await test.step('lose the passkey, recover with a code and register a new passkey', async () => {
    await passkey.remove();
    const device = await addVirtualAuthenticator(page);
    await page.goto(`${target.url}/recovery`);
    await page.getByLabel('Username').fill(user.username);
    await page.getByLabel('Recovery code').fill(user.recoveryCodes[0] as string);
    const recovered = page.waitForResponse((response) => new URL(response.url()).pathname === '/auth/recovery' && response.request().method() === 'POST');
    await page.getByRole('button', { name: 'Recover' }).click();
    // Failed recoveries also count against the client address: repeated gate runs can spend its budget before this one starts.
    const recoveredAnswer = await recovered;
    await refuseSpentClientBudget(recoveredAnswer, `the gate's own first recovery of ${user.username}, with a valid unused code`);
    await expect(page.getByText('Recovery code accepted.'), 'the recovery code is accepted').toBeVisible();
    // The answer counts the codes still unused, the one just spent no longer among them (hypervisor/auth/recovery.ts).
    expect(await recoveredAnswer.json(), 'POST /auth/recovery with the first of ten codes: the codes left').toMatchObject({ recovered: true, username: user.username, remaining_codes: user.recoveryCodes.length - 1 });
    // The recovery session's one power is registering a new passkey (choiros-contract.md, hypervisor/auth/recovery.ts):
    // until then it is no login, and the proxy lets none of its requests through to the sandbox.
    const me = await (await request.get(`${target.url}/auth/me`)).json();
    expect(me, 'GET /auth/me with the recovery session, before the new passkey').toMatchObject({ authenticated: false, user_id: null, recovery: { username: user.username } });
    const sandbox = await request.get(`${target.url}/conductor/runs`, { maxRedirects: 0 });
    expect(sandbox.status(), 'GET /conductor/runs (a sandbox route, through the proxy) with the recovery session').toBe(401);
    // Short-lived (choiros-contract.md; hypervisor/auth/sessions.ts: 10 minutes), HttpOnly, SameSite, and Secure on https:
    // the bound is the contract's, not read from the hypervisor, so a longer-lived recovery session fails here.
    const cookie = (await page.context().cookies(target.url)).find((c) => c.name === sessionCookieName);
    const checkedAt = Date.now();
    expect(cookie, `the ${sessionCookieName} cookie the recovery set`).toBeDefined();
    const cookieLifetimeMs = cookie!.expires * 1000 - checkedAt;
    expect(cookie!.expires, 'the recovery cookie has an expiry (Max-Age), not a browser-session cookie').toBeGreaterThan(0);
    expect(cookieLifetimeMs, 'the recovery cookie expires within 10 minutes').toBeLessThanOrEqual(recoveryLifetimeMs);
    expect(cookieLifetimeMs, 'the recovery cookie is not already expired').toBeGreaterThan(0);
    expect(cookie, 'the recovery cookie: HttpOnly, SameSite Lax or Strict, Secure on https').toMatchObject({ httpOnly: true, sameSite: expect.stringMatching(/^(Lax|Strict)$/), secure: target.url.startsWith('https:') ? true : expect.any(Boolean) });
    const serverExpiry = Date.parse((me as { recovery: { expires_at: string } }).recovery.expires_at) - checkedAt;
    expect(serverExpiry, "the recovery session's own expiry (GET /auth/me recovery.expires_at) is within 10 minutes").toBeLessThanOrEqual(recoveryLifetimeMs);
    await evidence.json('2-recovery-session', { auth_me: me, sandbox_route: { path: '/conductor/runs', status: sandbox.status() }, cookie: { ...cookie!, value: '<redacted>', lifetime_ms: Math.round(cookieLifetimeMs), bound_ms: recoveryLifetimeMs } });
    await page.getByRole('button', { name: 'Register a new passkey' }).click();
    await expect(page.getByText('Your new passkey is registered and you are logged in.')).toBeVisible();
    expect(await device.credentials()).toHaveLength(1);
    expect(await (await request.get(`${target.url}/auth/me`)).json()).toMatchObject({ authenticated: true, user_id: user.userId });
    await evidence.screenshot(page, '3-recovered-new-passkey');
  });

  await test.step('the spent recovery code is refused a second time', async () => {
    const again = await request.post(`${target.url}/auth/recovery`, { data: { username: user.username, code: user.recoveryCodes[0] } });
    expect(again.status()).toBeGreaterThanOrEqual(400);
  });

  await test.step('log out and log in with the new passkey', async () => {
    await request.post(`${target.url}/auth/logout`, { maxRedirects: 0 });
    await loginWithPasskey(page, target.url, user.username);
    expect(await (await request.get(`${target.url}/auth/me`)).json()).toMatchObject({ authenticated: true, user_id: user.userId });
  });

  await test.step('a recovery code typed as people paste it (capitals, spaces for its dashes) is accepted, and counts as spent', async () => {
    // hypervisor/auth/recovery-codes.ts accepts any case, surrounding spaces, with or without the dashes.
    const typed = ` ${(user.recoveryCodes[2] as string).toUpperCase().replaceAll('-', ' ')} `;
    const answer = await request.post(`${target.url}/auth/recovery`, { data: { username: user.username, code: typed } });
    await refuseSpentClientBudget(answer, `a recovery of ${user.username} with a valid unused code typed "${typed}"`);
    expect(answer.status(), `POST /auth/recovery with the third code typed "${typed}": ${answer.text()}`).toBe(200);
    expect(answer.json(), 'the codes left after the first and the third were spent').toMatchObject({ recovered: true, remaining_codes: user.recoveryCodes.length - 2 });
    await request.post(`${target.url}/auth/logout`, { maxRedirects: 0 });
  });

  await test.step('a wrong code is refused alike whether or not the username exists: the answer does not tell which was wrong', async () => {
    const wrongCode = 'aaaaa-bbbbb-ccccc-ddddd';
    const known = await request.post(`${target.url}/auth/recovery`, { data: { username: user.username, code: wrongCode } });
    await refuseSpentClientBudget(known, `a wrong recovery code for ${user.username}`);
    const unknown = await request.post(`${target.url}/auth/recovery`, { data: { username: `gate-nobody-${user.username.slice(-8)}`, code: wrongCode } });
    await evidence.json('4-recovery-wrong-user-or-code', { existing_user: { status: known.status(), body: known.json() }, unknown_user: { status: unknown.status(), body: unknown.json() } });
    expect(known.status(), `a wrong code for the existing user ${user.username}: ${known.text()}`).toBe(401);
    expect({ status: unknown.status(), body: unknown.json() }, 'a wrong code for a username nobody has, against the same for an existing user').toEqual({ status: known.status(), body: known.json() });
  });

  await test.step(`guessing recovery codes is bounded, whatever case the username is typed in: wrong codes are refused with 429 and Retry-After within ${recoveryGuessBound} guesses, and then so is a correct unused code`, async () => {
    const guessing = await guessRecoveryCodes(request, target.url, user.username, user.recoveryCodes[1] as string);
    await evidence.json('5-recovery-guessing', guessing);
    expect(guessing.statuses.at(-1), `the answers to ${guessing.statuses.length} wrong recovery codes, the username in another case each time (${guessing.spellings.join(', ')}): ${guessing.statuses.join(', ')}`).toBe(429);
    expect(guessing.retryAfter, 'the 429 says when to try again (Retry-After, whole seconds)').toMatch(/^[1-9]\d*$/);
    expect(guessing.correctCodeStatus, "a correct unused code once the account is refused: the budget is the account's").toBe(429);
  });

  await test.step("a recovery session adds a passkey to its own account only: another account's recovery session is refused registering one for this user", async () => {
    // A second gate user, recovered with one of its own codes: its recovery session may register a passkey for itself, not for the first user.
    const other = await gateUsers.register(page);
    await request.post(`${target.url}/auth/logout`, { maxRedirects: 0 });
    const recovery = await request.post(`${target.url}/auth/recovery`, { data: { username: other.username, code: other.recoveryCodes[0] } });
    await refuseSpentClientBudget(recovery, `the recovery of a second gate user ${other.username}, with a valid unused code`);
    expect(recovery.status(), `POST /auth/recovery for ${other.username}: ${recovery.text()}`).toBe(200);
    const foreign = await request.post(`${target.url}/auth/register/start`, { data: { username: user.username } });
    await evidence.json('6-recovery-session-scope', { recovered: other.username, asked_to_register_for: user.username, status: foreign.status(), body: foreign.text().slice(0, 300) });
    expect(foreign.status(), `POST /auth/register/start for ${user.username} with ${other.username}'s recovery session: ${foreign.text().slice(0, 200)}`).toBe(409);
    await request.post(`${target.url}/auth/logout`, { maxRedirects: 0 });
  });
});

test('live/dev sandbox lifecycle works and route swap succeeds.', async ({ hostTarget: target, hostRequests: request, page, passkey, desktop, gateUsers, evidence }) => {
  void passkey;
  await evidence.provenOn(target.provenOn);
  const user = await gateUsers.register(page);

  for (const role of ['live', 'dev'] as const) {
    await test.step(`${role}: start, restart and stop through the admin API`, async () => {
      const started = await evidence.timed(`${role}-start`, () => target.admin.start(user.userId, role));
      expect(started).toMatchObject({ status: 'running' });
      const restarted = await evidence.timed(`${role}-restart`, () => target.admin.restart(user.userId, role));
      expect(restarted).toMatchObject({ status: 'running' });
      // A restart is a new instance (another container, or another process), not the running one reported again.
      const instance = (answer: { container_id?: string | null; pid?: number | null }) => answer.container_id ?? answer.pid ?? null;
      expect(instance(started), `${role}: the start names its container or process`).not.toBeNull();
      expect(instance(restarted), `${role}: the instance after the restart`).not.toBe(instance(started));
      await evidence.timed(`${role}-stop`, () => target.admin.stop(user.userId, role));
      expect(await target.admin.sandbox(user.userId, role)).toMatchObject({ status: 'stopped' });
      expect(await target.admin.start(user.userId, role)).toMatchObject({ status: 'running' });
    });
  }

  await test.step('a task runs end to end over the WebSocket on main', async () => {
    await desktop.open(`${target.url}/`);
    const outcome = await desktop.runTask(`Gate phase 5 lifecycle for ${user.username}`);
    expect(outcome.status).toBe('completed');
    await evidence.json('task', outcome);
  });

  await test.step('a health-gated swap under a bounded traffic loop fails no request', async () => {
    const before = await target.admin.pointers(user.userId);
    const { result: swapped, traffic } = await underTraffic(request, `${target.url}/`, () => evidence.timed('swap', () => target.admin.swap(user.userId, 'gate: phase 5 swap')));
    await evidence.json('swap', { before, swapped, traffic });
    expect(swapped.main).toBe(before.dev);
    expect(traffic.total).toBeGreaterThanOrEqual(2 * trafficAround);
    expect(traffic.failures).toEqual([]);
    await desktop.open(`${target.url}/`);
    await expect(page.getByTestId('sandbox-role'), roleShown).toHaveText(swapped.main);
  });
});

test('Rollback rehearsal passes.', async ({ hostTarget: target, hostRequests: request, page, passkey, desktop, gateUsers, evidence, oncePerWorker }) => {
  void passkey;
  await evidence.provenOn(target.provenOn);
  // Run once per worker: "Rollback rehearsal output attached." reads the same rehearsal.
  const { output } = await oncePerWorker.once('rollback rehearsal', () => rehearseRollback({ target, request, page, desktop, register: (p) => gateUsers.register(p), evidence }));

  for (const mode of ['warm', 'cold'] as const) {
    await test.step(`${mode} rollback: the known-good release serves main again (its own version answers), no request fails, the data is intact`, async () => {
      const { answer, traffic, data_digests: digests, served_after: served } = output[mode];
      expect(answer.mode, `the ${mode} rehearsal's rollback mode`).toBe(mode);
      expect(answer.release.id).toBe(output.known_good.id);
      expect(served, 'GET /desktop/health on the main route after the rollback').toMatchObject({ status: 200, version: output.versions.known_good });
      expect(answer.serving_after_ms).not.toBeNull();
      expect(traffic.total).toBeGreaterThanOrEqual(2 * trafficAround);
      expect(traffic.failures).toEqual([]);
      expect(digests.after).toEqual(digests.before);
      expect(digests.before.live.runs + digests.before.dev.runs).toBeGreaterThanOrEqual(2);
    });
  }
});
