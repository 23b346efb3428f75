import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { createLogger } from '../log.ts';
import { SandboxUnavailableError } from '../sandboxes/errors.ts';
import { createProxy, type Proxy } from './proxy.ts';
import type { Target } from './target-resolver.ts';
import { startUpstream, type Upstream } from './testing/upstream.ts';

/** The user a request acts for, chosen by the test (the session's stand-in). */
const userHeader = 'x-test-user';

/** The proxy on a loopback server, acting for the user `userOf` names; close() stops both. */
async function serveProxy(proxy: Proxy, userOf: (req: IncomingMessage) => string): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((req, res) => void proxy.handleRequest(req, res, { userId: userOf(req) }));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close() {
      await proxy.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

// The resolver answers at once, as it does for a sandbox already running (most requests):
// the proxy must serve that target, and turn a refusal thrown at once into 503 with Retry-After.
describe('the proxy with a resolver that answers at once', () => {
  let live: Upstream;
  let proxy: Proxy;
  let served: Awaited<ReturnType<typeof serveProxy>>;
  let url: string;
  beforeAll(async () => {
    live = await startUpstream('alice-live');
    const unavailable: Record<string, Error> = {
      'slow-start': new SandboxUnavailableError({ userId: 'slow-start', role: 'live' }, 'still starting', 2.2),
      'no-estimate': new SandboxUnavailableError({ userId: 'no-estimate', role: 'live' }, 'podman failed', 0),
      'plain-error': new Error('podman is not answering'),
    };
    proxy = createProxy({
      log: createLogger('proxy-test', { write: () => undefined }),
      resolver: {
        target(userId): Target {
          const refusal = unavailable[userId];
          if (refusal) throw refusal;
          return { port: live.port, role: 'live' };
        },
        roleOf: () => 'live',
        touch: () => undefined,
      },
    });
    served = await serveProxy(proxy, (req) => String(req.headers[userHeader] ?? 'alice'));
    url = served.url;
  });
  afterAll(async () => {
    await served.close();
    await live.close();
  });

  it('relays to the target given at once, and counts the request in flight until it is answered', async () => {
    const slow = request(`${url}/slow?ms=200`);
    await expect.poll(() => live.requests.some((seen) => seen.url.startsWith('/slow')), { timeout: 5_000 }).toBe(true);
    expect(proxy.inFlight('alice:live')).toBe(1);
    const res = await slow;
    expect([res.statusCode, await res.body.text()]).toEqual([200, 'late']);
    expect(await proxy.drained('alice:live', 1_000)).toBe(true);
    expect(live.requests.at(-1)?.headers['x-choiros-user-id']).toBe('alice');
  });

  it.each([
    ['slow-start', '3', 'a fraction of a second rounds up'],
    ['no-estimate', '5', 'no estimate (0) means the default 5 s'],
    ['plain-error', '5', 'an error that names no time means the default 5 s'],
  ])('answers 503 when the sandbox of %s cannot be started, with Retry-After %s (%s)', async (userId, retryAfter) => {
    const res = await request(url, { headers: { [userHeader]: userId } });
    expect([res.statusCode, res.headers['retry-after']]).toEqual([503, retryAfter]);
    expect(await res.body.json()).toEqual({ error: 'your live sandbox cannot be started right now: retry shortly' });
    expect(proxy.inFlight(`${userId}:live`)).toBe(0);
  });

  it("names the dev sandbox when the dev route's sandbox cannot be started", async () => {
    const res = await request(`${url}/dev/`, { headers: { [userHeader]: 'plain-error' } });
    expect(res.statusCode).toBe(503);
    expect(await res.body.json()).toEqual({ error: 'your dev sandbox cannot be started right now: retry shortly' });
  });
});

// The resolver answers with a promise, as it does for a sandbox that must start first.
describe('the proxy with a resolver that must start the sandbox first', () => {
  let proxy: Proxy;
  let served: Awaited<ReturnType<typeof serveProxy>>;
  let url: string;
  beforeAll(async () => {
    proxy = createProxy({
      log: createLogger('proxy-test', { write: () => undefined }),
      resolver: {
        target: (userId) => Promise.reject(new SandboxUnavailableError({ userId, role: 'live' }, 'podman failed', 1)),
        roleOf: () => 'live',
        touch: () => undefined,
      },
    });
    served = await serveProxy(proxy, () => 'late-refusal');
    url = served.url;
  });
  afterAll(async () => {
    await served.close();
  });

  it('answers 503 when the start fails, and then holds up no drain of that user (a route switch waits for nothing)', async () => {
    const res = await request(url);
    expect([res.statusCode, res.headers['retry-after']]).toEqual([503, '1']);
    await res.body.dump();
    expect(await proxy.drained('late-refusal:live', 2_000)).toBe(true);
  });
});

// A request whose sandbox is still being resolved may land on any of the user's sandboxes: a drain of
// either (a route switch) waits for it, whichever route it came in on.
describe('the proxy while a target is still being resolved', () => {
  let live: Upstream;
  let proxy: Proxy;
  let served: Awaited<ReturnType<typeof serveProxy>>;
  let answer: ((target: Target) => void) | undefined;
  beforeAll(async () => {
    live = await startUpstream('pending-live');
    proxy = createProxy({
      log: createLogger('proxy-test', { write: () => undefined }),
      resolver: {
        target: () => new Promise<Target>((resolve) => (answer = resolve)),
        roleOf: () => 'live',
        touch: () => undefined,
      },
    });
    served = await serveProxy(proxy, () => 'pending');
  });
  afterAll(async () => {
    await served.close();
    await live.close();
  });

  it('holds up a drain of the user\'s sandbox until the request resolved and was answered', async () => {
    const pending = request(`${served.url}/slow?ms=50`);
    await expect.poll(() => answer !== undefined, { timeout: 5_000 }).toBe(true);
    expect(await proxy.drained('pending:live', 200), 'drained while the request was still resolving').toBe(false);
    answer?.({ port: live.port, role: 'live' });
    const res = await pending;
    expect(res.statusCode).toBe(200);
    await res.body.dump();
    expect(await proxy.drained('pending:live', 2_000)).toBe(true);
  });
});
