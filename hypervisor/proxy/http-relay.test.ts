import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from 'node:net';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import { waitFor } from '../../fixtures/test-hypervisor.ts';
import { SandboxUnavailableError } from '../sandboxes/errors.ts';
import { metricsRegistry } from '../metrics-registry.ts';
import { rawConnection, untilClosed } from '../http/testing/raw-connection.ts';
import { closedPort, startFront, testUserHeader, type Front } from './testing/front.ts';
import { startUpstream, type Upstream } from './testing/upstream.ts';

/** A request written byte for byte (HTTP clients refuse to send some of these headers); returns the raw answer. */
function rawRequest(port: number, lines: string[]): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(`${lines.join('\r\n')}\r\n\r\n`));
    let text = '';
    socket.on('data', (chunk) => (text += chunk.toString()));
    socket.on('end', () => resolve(text));
    socket.on('error', reject);
  });
}

describe('HTTP relay to the user\'s sandboxes', () => {
  let live: Upstream;
  let dev: Upstream;
  let bob: Upstream;
  let front: Front;
  beforeAll(async () => {
    [live, dev, bob] = await Promise.all([startUpstream('alice-live'), startUpstream('alice-dev'), startUpstream('bob-live')]);
    front = await startFront(
      {
        'alice:main': { port: live.port, role: 'live' },
        'alice:dev': { port: dev.port, role: 'dev' },
        'bob:main': { port: bob.port, role: 'live' },
        'carol:main': { port: await closedPort(), role: 'live' },
        'dave:main': new SandboxUnavailableError({ userId: 'dave', role: 'live' }, 'start failed', 7),
        'erin:main': new Error('podman is not answering'),
      },
      { maxRequestBodyBytes: 1024, maxResponseBodyBytes: 4096, responseHeadersTimeoutMs: 300 },
    );
  });
  afterAll(async () => {
    await front.close();
    await Promise.all([live.close(), dev.close(), bob.close()]);
  });

  const last = (upstream: Upstream) => upstream.requests[upstream.requests.length - 1]!;

  it('removes credentials and hop-by-hop headers and sets identity and forwarding headers', async () => {
    const status = await rawRequest(
      front.port,
      [
        'GET /echo?q=1 HTTP/1.1',
        'Host: localhost',
        'Cookie: choiros_session=secret',
        'Authorization: Bearer admin-token',
        'Proxy-Authorization: Basic eA==',
        'Connection: close, x-private',
        'X-Private: hop',
        'TE: trailers',
        'Keep-Alive: timeout=5',
        'X-Kept: yes',
      ],
    );
    expect(status).toMatch(/^HTTP\/1\.1 200/);
    const { headers, url } = last(live);
    expect(url).toBe('/echo?q=1');
    for (const name of ['cookie', 'authorization', 'proxy-authorization', 'x-private', 'te', 'keep-alive', testUserHeader]) expect(headers[name]).toBeUndefined();
    expect(headers['x-kept']).toBe('yes');
    expect(headers['x-choiros-user-id']).toBe('alice');
    expect(headers['x-choiros-sandbox-role']).toBe('live');
    expect(headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(headers['x-forwarded-proto']).toBe('http');
  });

  it('overwrites forged identity and forwarding headers and drops other x-choiros-* headers', async () => {
    const res = await request(`${front.url}/echo`, {
      headers: {
        'x-choiros-user-id': 'bob',
        'x-choiros-sandbox-role': 'dev',
        'x-choiros-admin': 'true',
        'x-forwarded-for': '10.9.9.9',
        'x-forwarded-proto': 'https',
        'x-forwarded-host': 'admin.example',
        'x-real-ip': '10.9.9.9',
        forwarded: 'for=10.9.9.9',
      },
    });
    await res.body.dump();
    const { headers } = last(live);
    expect(headers['x-choiros-user-id']).toBe('alice');
    expect(headers['x-choiros-sandbox-role']).toBe('live');
    expect(headers['x-choiros-admin']).toBeUndefined();
    expect(headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(headers['x-forwarded-proto']).toBe('http');
    // The Host the client reached the hypervisor on, not the one it claims a proxy saw.
    expect(headers['x-forwarded-host']).toBe(new URL(front.url).host);
    expect(headers['x-real-ip'], 'a client-chosen X-Real-IP').toBeUndefined();
    expect(headers.forwarded).toBeUndefined();
  });

  it('routes /dev/... to the dev sandbox with the prefix stripped, and everything else to live', async () => {
    const toDev = await request(`${front.url}/dev/conductor/runs?limit=2`);
    expect(await toDev.body.json()).toMatchObject({ sandbox: 'alice-dev', url: '/conductor/runs?limit=2' });
    expect(last(dev).headers['x-choiros-sandbox-role']).toBe('dev');
    const devices = await request(`${front.url}/devices`);
    expect(await devices.body.json()).toMatchObject({ sandbox: 'alice-live', url: '/devices' });
    const bare = await request(`${front.url}/dev?x=1`);
    await bare.body.dump();
    expect([bare.statusCode, bare.headers.location]).toEqual([308, '/dev/?x=1']);
    const dotted = await request(`${front.url}/dev/../health`);
    expect(await dotted.body.json()).toMatchObject({ sandbox: 'alice-live', url: '/health' });
  });

  it("never reaches another user's sandbox: identity comes from the session, not the request", async () => {
    const forged = await request(`${front.url}/echo`, { headers: { 'x-choiros-user-id': 'bob', host: `127.0.0.1:${bob.port}` } });
    expect(await forged.body.json()).toMatchObject({ sandbox: 'alice-live' });
    const asBob = await request(`${front.url}/echo`, { headers: { [testUserHeader]: 'bob' } });
    expect(await asBob.body.json()).toMatchObject({ sandbox: 'bob-live' });
  });

  it('keeps an absolute-form request target inside the user\'s sandbox', async () => {
    const raw = await rawRequest(front.port, [`GET http://127.0.0.1:${bob.port}/stolen HTTP/1.1`, `Host: 127.0.0.1:${bob.port}`, 'Connection: close']);
    expect(raw).toMatch(/^HTTP\/1\.1 200/);
    expect(raw).toContain('"sandbox":"alice-live"');
    expect(raw).toContain('"url":"/stolen"');
    expect(bob.requests.some((r) => r.url === '/stolen')).toBe(false);
  });

  it('removes hop-by-hop headers and those acting on the origin (Set-Cookie, Clear-Site-Data, Service-Worker-Allowed, HSTS, NEL, Report-To, Reporting-Endpoints, Alt-Svc) from the sandbox\'s answer', async () => {
    const res = await request(`${front.url}/cookie`);
    await res.body.dump();
    expect(res.headers['set-cookie']).toBeUndefined();
    expect(res.headers['clear-site-data']).toBeUndefined();
    expect(res.headers['service-worker-allowed']).toBeUndefined();
    for (const name of ['strict-transport-security', 'nel', 'report-to', 'reporting-endpoints', 'alt-svc']) expect(res.headers[name], name).toBeUndefined();
    expect(res.headers['x-hop']).toBeUndefined();
    expect(res.headers['x-sandbox']).toBe('alice-live');
  });

  it('streams a request body to the sandbox unchanged', async () => {
    const body = Readable.from(['{"objective":', '"write a report"}']);
    const res = await request(`${front.url}/conductor/execute`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect(await res.body.json()).toMatchObject({ method: 'POST', body: '{"objective":"write a report"}' });
  });

  it('delivers server-sent events as they are sent, not buffered', async () => {
    const res = await request(`${front.url}/events`, { headers: { accept: 'text/event-stream' } });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/event-stream');
    const reader = res.body[Symbol.asyncIterator]();
    const next = async (): Promise<string> => String((await reader.next()).value);
    expect(await next()).toBe(': open\n\n');
    live.sendEvent('first');
    expect(await next()).toBe('data: first\n\n');
    live.sendEvent('second');
    expect(await next()).toBe('data: second\n\n');
    res.body.destroy();
  });

  it('keeps serving other requests while an event stream stays open', async () => {
    const stream = await request(`${front.url}/events`);
    const others = await Promise.all(Array.from({ length: 5 }, () => request(`${front.url}/echo`)));
    expect(others.map((r) => r.statusCode)).toEqual([200, 200, 200, 200, 200]);
    await Promise.all(others.map((r) => r.body.dump()));
    stream.body.destroy();
  });

  it('ends the sandbox exchange when the client goes away', async () => {
    await expect.poll(() => front.proxy.inFlight('alice:live'), { timeout: 5_000 }).toBe(0);
    const stream = await request(`${front.url}/events`);
    expect(front.proxy.inFlight('alice:live')).toBe(1);
    stream.body.destroy();
    await expect.poll(() => front.proxy.inFlight('alice:live'), { timeout: 5_000 }).toBe(0);
    expect(await front.proxy.drained('alice:live', 10)).toBe(true);
  });

  it('refuses a request body over the limit with 413, declared or streamed', async () => {
    const declared = await request(`${front.url}/upload`, { method: 'POST', body: Buffer.alloc(2048) });
    expect(declared.statusCode).toBe(413);
    expect(await declared.body.json()).toEqual({ error: 'request body of 2048 bytes exceeds the limit of 1024 bytes' });
    const streamed = await request(`${front.url}/upload`, { method: 'POST', body: Readable.from([Buffer.alloc(800), Buffer.alloc(800)]) });
    expect(streamed.statusCode).toBe(413);
    expect(await streamed.body.json()).toEqual({ error: 'request body exceeds the limit of 1024 bytes' });
  });

  it('lets a client that goes on streaming past the limit read the 413: the rest of its body is read and dropped before the connection closes', async () => {
    // A client that writes its whole 4 MiB body before reading anything (a 1 KiB limit): had the proxy closed at its
    // answer with most of the body unread, the client's next bytes would be answered with a reset, its write would
    // fail (EPIPE) and the 413 waiting in its socket would never be read.
    const client = await rawConnection(front.port);
    client.pause();
    const body = Buffer.alloc(4 * 1024 * 1024, ' ');
    const head = `POST /upload HTTP/1.1\r\nHost: localhost\r\n${testUserHeader}: alice\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n${body.length.toString(16)}\r\n`;
    const writeError = await new Promise<Error | null | undefined>((resolve) => client.write(Buffer.concat([Buffer.from(head), body, Buffer.from('\r\n0\r\n\r\n')]), resolve));
    client.resume();
    const answer = await untilClosed(client);
    expect(writeError ?? undefined, 'the whole body was taken').toBeUndefined();
    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
    expect(answer).toMatch(/connection: close/i);
    expect(answer).toContain('{"error":"request body exceeds the limit of 1024 bytes"}');
  });

  it('relays a request body and a response exactly at their limits, declared or streamed', async () => {
    const declared = await request(`${front.url}/upload`, { method: 'POST', body: Buffer.alloc(1024, 0x62) });
    expect(declared.statusCode).toBe(200);
    expect(((await declared.body.json()) as { body: string }).body).toHaveLength(1024);
    const streamed = await request(`${front.url}/upload`, { method: 'POST', body: Readable.from([Buffer.alloc(512, 0x62), Buffer.alloc(512, 0x62)]) });
    expect(streamed.statusCode).toBe(200);
    expect(((await streamed.body.json()) as { body: string }).body).toHaveLength(1024);
    for (const path of ['/large?bytes=4096&declared=1', '/large?bytes=4096']) {
      const res = await request(`${front.url}${path}`);
      expect([path, res.statusCode, (await res.body.text()).length]).toEqual([path, 200, 4096]);
    }
  });

  it('refuses a response over the limit: 502 when declared, cut off when streamed', async () => {
    const declared = await request(`${front.url}/large?bytes=5000&declared=1`);
    expect(declared.statusCode).toBe(502);
    expect(await declared.body.json()).toMatchObject({ error: expect.stringMatching(/response of 5000 bytes exceeds the limit of 4096 bytes/) });
    const streamed = await request(`${front.url}/large?bytes=100000`);
    await expect(streamed.body.text()).rejects.toThrow();
  });

  it('answers 504 when the sandbox does not answer in time', async () => {
    const res = await request(`${front.url}/slow?ms=2000`);
    expect(res.statusCode).toBe(504);
    expect(await res.body.json()).toEqual({ error: 'the sandbox did not answer within 300 ms' });
  });

  it('answers 502 when the sandbox refuses the connection', async () => {
    const res = await request(`${front.url}/`, { headers: { [testUserHeader]: 'carol' } });
    expect(res.statusCode).toBe(502);
    expect(await res.body.json()).toMatchObject({ error: expect.stringMatching(/^the sandbox refused the connection/) });
  });

  it('answers 503 with Retry-After when the sandbox cannot be started', async () => {
    const unavailable = await request(`${front.url}/`, { headers: { [testUserHeader]: 'dave' } });
    expect(unavailable.statusCode).toBe(503);
    expect(unavailable.headers['retry-after']).toBe('7');
    expect(await unavailable.body.json()).toEqual({ error: 'your live sandbox cannot be started right now: retry shortly' });
    const failing = await request(`${front.url}/`, { headers: { [testUserHeader]: 'erin' } });
    expect([failing.statusCode, failing.headers['retry-after']]).toEqual([503, '5']);
    await failing.body.dump();
  });

  it('counts a request as in flight only until it ends, however it ends: refused over the body limit, the sandbox unreachable, or never started', async () => {
    const bobs = { [testUserHeader]: 'bob' };
    const declared = await request(`${front.url}/upload`, { method: 'POST', headers: bobs, body: Buffer.alloc(2048) });
    const streamed = await request(`${front.url}/upload`, { method: 'POST', headers: bobs, body: Readable.from([Buffer.alloc(800), Buffer.alloc(800)]) });
    const refused = await request(`${front.url}/`, { headers: { [testUserHeader]: 'carol' } });
    const unstarted = await request(`${front.url}/`, { headers: { [testUserHeader]: 'dave' } });
    for (const answer of [declared, streamed, refused, unstarted]) await answer.body.dump();
    expect([declared.statusCode, streamed.statusCode, refused.statusCode, unstarted.statusCode]).toEqual([413, 413, 502, 503]);
    expect([front.proxy.inFlight('bob:live'), front.proxy.inFlight('carol:live'), front.proxy.inFlight('dave:live')], 'nothing left in flight').toEqual([0, 0, 0]);
    // A drain waits for requests still resolving their target: one that was never started must not hold it up.
    const drains = await Promise.all(['bob:live', 'carol:live', 'dave:live'].map((key) => front.proxy.drained(key, 2_000)));
    expect(drains, 'every drain of these sandboxes finds them drained').toEqual([true, true, true]);
  });

  it('tracks requests in flight per sandbox so a route switch can drain them', async () => {
    const slow = request(`${front.url}/dev/slow?ms=250`);
    // In flight from the moment the sandbox has it until its answer (250 ms later) is relayed.
    await waitFor('the slow request to reach the sandbox', () => (dev.requests.some((seen) => seen.url.startsWith('/slow')) ? true : undefined), 5_000);
    expect(front.proxy.inFlight('alice:dev')).toBe(1);
    expect(await front.proxy.drained('alice:dev', 20)).toBe(false);
    const drained = front.proxy.drained('alice:dev', 2_000);
    expect((await slow).statusCode).toBe(200);
    expect(await drained).toBe(true);
    expect(front.proxy.inFlight('alice:dev')).toBe(0);
    expect(front.touched).toContain('alice:dev');
  });

  it('counts proxied requests in the metrics registry', async () => {
    const before = (await metricsRegistry.getSingleMetric('choiros_proxy_requests_total')!.get()).values.find((v) => v.labels.role === 'live' && v.labels.status_class === '2xx')?.value ?? 0;
    await (await request(`${front.url}/echo`)).body.dump();
    const after = (await metricsRegistry.getSingleMetric('choiros_proxy_requests_total')!.get()).values.find((v) => v.labels.role === 'live' && v.labels.status_class === '2xx')?.value ?? 0;
    expect(after).toBe(before + 1);
  });

  it('counts a refused answer under its status class and a response cut off while streaming under 0xx, on the dev role', async () => {
    const count = async (statusClass: string): Promise<number> =>
      (await metricsRegistry.getSingleMetric('choiros_proxy_requests_total')!.get()).values.find((v) => v.labels.role === 'dev' && v.labels.status_class === statusClass)?.value ?? 0;
    const [before5xx, before0xx, before2xx] = [await count('5xx'), await count('0xx'), await count('2xx')];
    const refused = await request(`${front.url}/dev/large?bytes=5000&declared=1`);
    expect(refused.statusCode).toBe(502);
    await refused.body.dump();
    const cut = await request(`${front.url}/dev/large?bytes=100000`);
    await expect(cut.body.text()).rejects.toThrow();
    // The cut is counted when the relay sees the client side close.
    await waitFor('the cut-off exchange to be counted', async () => ((await count('0xx')) === before0xx + 1 ? true : undefined), 5_000);
    expect([await count('5xx'), await count('2xx')]).toEqual([before5xx + 1, before2xx]);
  });
});

describe('HTTP relay of a response body that goes quiet', () => {
  // undici checks both timeouts on a tick of about half a second, so the 100 ms headers timeout
  // fires within about a second: a 2 s pause is well past it and well short of the idle timeout.
  const responseHeadersTimeoutMs = 100;
  const responseIdleTimeoutMs = 5_000;
  const pauseMs = 2_000;
  let sandbox: Upstream;
  let front: Front;
  beforeAll(async () => {
    sandbox = await startUpstream('henry-live');
    front = await startFront({ 'henry:main': { port: sandbox.port, role: 'live' } }, { responseHeadersTimeoutMs, responseIdleTimeoutMs });
  });
  afterAll(async () => {
    await front.close();
    await sandbox.close();
  });

  async function openEvents() {
    const res = await request(`${front.url}/events`, { headers: { [testUserHeader]: 'henry', accept: 'text/event-stream' } });
    const reader = res.body[Symbol.asyncIterator]();
    const next = async (): Promise<string> => String((await reader.next()).value);
    expect(await next()).toBe(': open\n\n');
    return { res, next };
  }

  it('keeps relaying a response body that pauses longer than the headers timeout but shorter than the idle timeout', async () => {
    const events = await openEvents();
    // A quiet spell, as an SSE stream between two rare events.
    await sleep(pauseMs);
    sandbox.sendEvent('after a pause');
    expect(await events.next()).toBe('data: after a pause\n\n');
    expect(front.logLines.filter((line) => line.includes('"event":"proxy.response_cut"'))).toEqual([]);
    events.res.body.destroy();
  });

  it('cuts off a response body that stays silent past the idle timeout, saying how long it waited', async () => {
    const logged = front.logLines.length;
    const events = await openEvents();
    await expect(events.next()).rejects.toThrow();
    const cut = front.logLines.slice(logged).filter((line) => line.includes('"event":"proxy.response_cut"')).map((line) => (JSON.parse(line) as { reason: string }).reason);
    expect(cut).toEqual([`the sandbox stopped sending its response for ${responseIdleTimeoutMs} ms`]);
  });
});

describe('the proxy with its default limits', () => {
  it('waits a minute (ms, not s) for response headers: a sandbox answering after 2.5 s is relayed, not 504', async () => {
    const upstream = await startUpstream('default-headers-wait');
    const front = await startFront({ 'alice:main': { port: upstream.port, role: 'live' } });
    try {
      // Over a second: undici's timers are coarse below one, so a shorter wait would not tell ms from s.
      const res = await request(`${front.url}/slow?ms=2500`, { headers: { [testUserHeader]: 'alice' } });
      expect(res.statusCode).toBe(200);
      await res.body.dump();
    } finally {
      await front.close();
      await upstream.close();
    }
  });

  it('relays a request body of exactly 32 MiB (binary, not 32 MB) and refuses one byte more with 413 naming the limit', async () => {
    const upstream = await startUpstream('default-limits');
    const front = await startFront({ 'alice:main': { port: upstream.port, role: 'live' } });
    try {
      const limit = 32 * 1024 * 1024;
      const at = await request(`${front.url}/upload`, { method: 'POST', headers: { [testUserHeader]: 'alice' }, body: Buffer.alloc(limit, 0x62) });
      expect(at.statusCode).toBe(200);
      await at.body.dump();
      expect(upstream.requests.at(-1)?.body.length).toBe(limit);
      const over = await request(`${front.url}/upload`, { method: 'POST', headers: { [testUserHeader]: 'alice' }, body: Buffer.alloc(limit + 1, 0x62) });
      expect(over.statusCode).toBe(413);
      expect(await over.body.json()).toEqual({ error: `request body of ${limit + 1} bytes exceeds the limit of ${limit} bytes` });
    } finally {
      await front.close();
      await upstream.close();
    }
  });
});
