import type { Page } from '@playwright/test';
import { addVirtualAuthenticator } from '../../fixtures/passkey.ts';
import { expect, newUsername, test } from './fixtures.ts';

async function register(page: Page, username: string, displayName: string): Promise<string[]> {
  await page.goto('/register');
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Display name').fill(displayName);
  await page.getByRole('button', { name: 'Register with a passkey' }).click();
  const codes = page.getByTestId('recovery-codes').getByRole('listitem');
  await expect(codes).toHaveCount(10);
  return codes.allTextContents();
}

async function logIn(page: Page, username: string): Promise<void> {
  await page.goto('/login');
  await page.getByLabel('Username').fill(username);
  await page.getByRole('button', { name: 'Log in with a passkey' }).click();
  await expect(page).toHaveURL(/\/$/);
}

/**
 * What a logged-in user's browser does to log out: POST /auth/logout from the page (same origin).
 * Then the old session cookie is put back and must open nothing: the browser sends no cookie after
 * logout, so only a replay shows that the session ended on the server too.
 */
async function logOut(page: Page): Promise<void> {
  const session = (await page.context().cookies()).find((cookie) => cookie.httpOnly);
  expect(session, 'the session cookie the browser holds before logging out').toBeDefined();
  const landed = await page.evaluate(async () => (await fetch('/auth/logout', { method: 'POST' })).url);
  expect(new URL(landed).pathname).toBe('/login');
  await page.context().addCookies([session!]);
  const replayed = await page.evaluate(async () => (await (await fetch('/auth/me')).json()) as unknown);
  await page.context().clearCookies({ name: session!.name });
  expect(replayed, 'GET /auth/me with the logged-out session cookie replayed').toMatchObject({ authenticated: false });
}

async function runTask(page: Page, objective: string): Promise<void> {
  await page.getByLabel('Objective').fill(objective);
  await page.getByRole('button', { name: 'Start task' }).click();
  await expect(page.getByTestId('run-status')).toHaveText('completed', { timeout: 30_000 });
}

/** Run ids the sandbox behind `prefix` lists for this browser's session (a real fetch from the page). */
async function listedRuns(page: Page, prefix: '' | '/dev'): Promise<string[]> {
  return page.evaluate(async (path) => {
    const response = await fetch(`${path}/conductor/runs`);
    const body = (await response.json()) as { runs: { run_id: string }[] };
    return body.runs.map((run) => run.run_id);
  }, prefix);
}

test.describe('passkey auth and the authenticating proxy, in Chromium', () => {
  test('register, see the recovery codes, run a task on the live desktop over the proxied WebSocket, log out and log in again', async ({ page, passkey }) => {
    const username = newUsername('ada');
    let codes: string[] = [];
    await test.step('register with a passkey; ten recovery codes are shown once', async () => {
      codes = await register(page, username, 'Ada Lovelace');
      for (const code of codes) expect(code).toMatch(/^[a-z0-9]{5}-[a-z0-9]{5}-[a-z0-9]{5}-[a-z0-9]{5}$/);
      expect(await passkey.credentials()).toHaveLength(1);
    });
    await test.step("continue to the live sandbox's desktop page through the proxy", async () => {
      await page.getByRole('link', { name: 'Continue' }).click();
      await expect(page).toHaveURL(/\/$/);
      await expect(page.getByRole('heading', { name: 'ChoirOS desktop' })).toBeVisible();
      await expect(page.getByTestId('sandbox-role')).toHaveText('live');
    });
    await test.step('start a task: progress and the result arrive over the proxied WebSocket', async () => {
      await runTask(page, 'summarise the bootstrap checklist');
      const events = page.getByTestId('run-events').getByRole('listitem');
      await expect(events.first()).toHaveText(/^conductor\.run\.started/);
      await expect(events.filter({ hasText: /^conductor\.run\.progress/ }).first()).toBeVisible();
      await expect(events.last()).toHaveText(/^conductor\.run\.completed/);
      await expect(page.getByTestId('run-result')).toContainText('Document:');
    });
    await test.step('log out: the session ends and the desktop asks for a login', async () => {
      await logOut(page);
      await page.goto('/');
      await expect(page).toHaveURL(/\/login$/);
      expect(await page.evaluate(async () => (await (await fetch('/auth/me')).json()) as unknown)).toMatchObject({ authenticated: false });
    });
    await test.step('log in again with the passkey', async () => {
      await logIn(page, username);
      await expect(page.getByRole('heading', { name: 'ChoirOS desktop' })).toBeVisible();
      expect(await page.evaluate(async () => (await (await fetch('/auth/me')).json()) as unknown)).toMatchObject({ authenticated: true, username });
    });
  });

  test('recover with a code, register a new passkey on a new authenticator and log in with it; a reused and a wrong code are refused', async ({ page, passkey, browser, hypervisor }) => {
    const username = newUsername('grace');
    const codes = await register(page, username, 'Grace Hopper');
    await passkey.remove();

    const device = await browser.newContext({ baseURL: hypervisor.baseURL });
    const other = await device.newPage();
    const replacement = await addVirtualAuthenticator(other);
    try {
      await test.step('a wrong code is refused', async () => {
        await other.goto('/recovery');
        await other.getByLabel('Username').fill(username);
        await other.getByLabel('Recovery code').fill('aaaaa-bbbbb-ccccc-ddddd');
        await other.getByRole('button', { name: 'Recover' }).click();
        await expect(other.getByRole('alert')).toHaveText('invalid username or code');
      });
      await test.step('a valid code allows registering a new passkey', async () => {
        await other.getByLabel('Recovery code').fill(codes[4]!);
        await other.getByRole('button', { name: 'Recover' }).click();
        await other.getByRole('button', { name: 'Register a new passkey' }).click();
        await expect(other.getByText('Your new passkey is registered')).toBeVisible();
        expect(await replacement.credentials()).toHaveLength(1);
      });
      await test.step('log out and log in with the new passkey', async () => {
        await logOut(other);
        await logIn(other, username);
        await expect(other.getByRole('heading', { name: 'ChoirOS desktop' })).toBeVisible();
      });
      await test.step('the used code is refused the second time', async () => {
        await logOut(other);
        await other.goto('/recovery');
        await other.getByLabel('Username').fill(username);
        await other.getByLabel('Recovery code').fill(codes[4]!);
        await other.getByRole('button', { name: 'Recover' }).click();
        await expect(other.getByRole('alert')).toHaveText('invalid username or code');
        await expect(other.getByRole('button', { name: 'Register a new passkey' })).toBeHidden();
      });
    } finally {
      await device.close();
    }
  });

  test('after a login, ?next= only ever leads somewhere on this origin', async ({ page, hypervisor }) => {
    // Anything off this origin is answered here, so a redirect that escapes shows up without leaving loopback.
    await page.context().route((url) => url.origin !== hypervisor.baseURL, (route) => route.fulfill({ status: 200, contentType: 'text/plain', body: 'left the origin' }));
    await addVirtualAuthenticator(page);
    const username = newUsername('next');
    await register(page, username, 'Next Tester');
    const logInWithNext = async (next: string): Promise<void> => {
      await logOut(page);
      await page.goto(`/login?next=${encodeURIComponent(next)}`);
      await page.getByLabel('Username').fill(username);
      await page.getByRole('button', { name: 'Log in with a passkey' }).click();
      await page.waitForURL((url) => !url.pathname.startsWith('/login'));
    };
    for (const next of ['/\t/evil.example/phish', '/\\evil.example/phish', '//evil.example/phish', 'http://evil.example/phish', 'javascript:alert(1)']) {
      await logInWithNext(next);
      expect(page.url(), `next=${JSON.stringify(next)}`).toBe(`${hypervisor.baseURL}/`);
    }
    await logInWithNext('/?from=login#top');
    expect(page.url()).toBe(`${hypervisor.baseURL}/?from=login#top`);
  });

  test('after a login, a ?next= path that normalises to //host stays on this origin', async ({ page, hypervisor }) => {
    // Anything off this origin is answered here, so a redirect that escapes shows up without leaving loopback.
    await page.context().route((url) => url.origin !== hypervisor.baseURL, (route) => route.fulfill({ status: 200, contentType: 'text/plain', body: 'left the origin' }));
    await addVirtualAuthenticator(page);
    const username = newUsername('dots');
    await register(page, username, 'Dot Segments');
    for (const next of ['/.//evil.example/phish', '/..//evil.example/phish', '/x/..//evil.example/phish', '/%2e//evil.example/phish', '/./\\evil.example/phish']) {
      await logOut(page);
      await page.goto(`/login?next=${encodeURIComponent(next)}`);
      await page.getByLabel('Username').fill(username);
      await page.getByRole('button', { name: 'Log in with a passkey' }).click();
      await page.waitForURL((url) => !url.pathname.startsWith('/login'));
      expect(new URL(page.url()).origin, `next=${JSON.stringify(next)} led to ${page.url()}`).toBe(hypervisor.baseURL);
    }
  });

  test("a sandbox page cannot install a service worker on the hypervisor's origin", async ({ page }) => {
    await addVirtualAuthenticator(page);
    await register(page, newUsername('worker'), 'Worker Tester');
    await page.goto('/');
    await expect(page.getByTestId('sandbox-role')).toHaveText('live');
    const outcome = await page.evaluate(async () =>
      // A classic worker: its script is fetched with the session cookie (a module worker's is not).
      navigator.serviceWorker.register('desktop.js').then(
        () => 'registered',
        (error: unknown) => String(error),
      ),
    );
    expect(outcome).toContain('(403)');
    expect(await page.evaluate(async () => (await navigator.serviceWorker.getRegistrations()).length)).toBe(0);

    const asWorker = await page.request.get('/desktop.js', { headers: { 'service-worker': 'script' } });
    expect(asWorker.status()).toBe(403);
    expect(await asWorker.json()).toEqual({ error: expect.stringMatching(/^sandboxes cannot install service workers/) });
    expect((await page.request.get('/desktop.js')).status()).toBe(200);
  });

  test("a second user cannot see the first user's runs on live or dev", async ({ page, browser, hypervisor }) => {
    await addVirtualAuthenticator(page);
    await register(page, newUsername('first'), 'First User');
    await page.goto('/');
    await runTask(page, 'first user live task');
    await page.goto('/dev/');
    await expect(page.getByTestId('sandbox-role')).toHaveText('dev');
    await runTask(page, 'first user dev task');
    const firstLive = await listedRuns(page, '');
    const firstDev = await listedRuns(page, '/dev');
    expect(firstLive).toHaveLength(1);
    expect(firstDev).toHaveLength(1);

    const second = await browser.newContext({ baseURL: hypervisor.baseURL });
    try {
      const secondPage = await second.newPage();
      await addVirtualAuthenticator(secondPage);
      await register(secondPage, newUsername('second'), 'Second User');
      await secondPage.goto('/');
      await expect(secondPage.getByRole('heading', { name: 'ChoirOS desktop' })).toBeVisible();
      expect(await listedRuns(secondPage, '')).not.toContain(firstLive[0]);
      expect(await listedRuns(secondPage, '/dev')).not.toContain(firstDev[0]);
      expect(await listedRuns(secondPage, '')).toEqual([]);
      expect(await listedRuns(secondPage, '/dev')).toEqual([]);
    } finally {
      await second.close();
    }
  });
});
