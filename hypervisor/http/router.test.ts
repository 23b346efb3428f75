import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from 'node:net';
import { request } from 'undici';
import { collectingLogger } from '../routing/testing/collecting-logger.ts';
import { HttpError } from './errors.ts';
import { sendJson } from './json.ts';
import { dispatch, type Route } from './router.ts';
import { pipelinesOnLoopback } from './testing/pipelines-on-loopback.ts';

const echo = (method: Route['method'], path: string): Route => ({
  method,
  path,
  handle: async ({ res, params }) => sendJson(res, 200, { method, params }),
});

const routes: Route[] = [
  echo('GET', '/admin/sandboxes/:userId/:role'),
  echo('DELETE', '/admin/sandboxes/:userId/:role'),
  echo('POST', '/admin/sandboxes/:userId/:role/start'),
];

let close: () => Promise<void>;
let port: number;

beforeAll(async () => {
  const { logger } = collectingLogger();
  ({ port, close } = await pipelinesOnLoopback(
    {
      request: [async (req, res, url) => dispatch(routes, req, res, url)],
      upgrade: [
        async (_req, _socket, _head, url) => {
          if (url.pathname === '/busy') throw new HttpError(429, 'too many connections for this user');
          return false;
        },
      ],
    },
    logger,
  ));
});

afterAll(() => close());

async function call(method: string, path: string): Promise<{ status: number; allow: string | undefined; body: Record<string, unknown> }> {
  const res = await request(`http://127.0.0.1:${port}${path}`, { method });
  const allow = res.headers.allow;
  return { status: res.statusCode, allow: typeof allow === 'string' ? allow : undefined, body: (await res.body.json()) as Record<string, unknown> };
}

/** Sends a raw WebSocket upgrade and reads everything the server writes until it closes the connection. */
function rawUpgrade(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString('utf8')));
    socket.on('end', () => resolve(answer));
    socket.on('error', reject);
    socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`);
  });
}

describe('http router', () => {
  it('runs the route matching method and path, with its :name segments URL-decoded', async () => {
    expect(await call('GET', '/admin/sandboxes/ann%20lee/live')).toMatchObject({ status: 200, body: { method: 'GET', params: { userId: 'ann lee', role: 'live' } } });
    expect(await call('POST', '/admin/sandboxes/bob/dev/start')).toMatchObject({ status: 200, body: { method: 'POST', params: { userId: 'bob', role: 'dev' } } });
  });

  it('answers 405 with an Allow header naming every method the path takes when only the method differs', async () => {
    const answer = await call('PUT', '/admin/sandboxes/ann/live');
    expect(answer.status).toBe(405);
    expect(answer.allow?.split(', ').sort()).toEqual(['DELETE', 'GET']);
  });

  it('matches whole paths only: an empty, missing or extra segment is not found (404)', async () => {
    for (const path of ['/admin/sandboxes//live', '/admin/sandboxes/ann', '/admin/sandboxes/ann/live/extra', '/admin/sandboxes/ann/live/stop']) {
      expect((await call('GET', path)).status, path).toBe(404);
    }
  });

  it('answers 400 to a path segment that is not valid percent-encoding', async () => {
    expect((await call('GET', '/admin/sandboxes/%E0%A4%A/live')).status).toBe(400);
  });

  it('refuses an upgrade nothing takes with a plain 404 JSON answer on the raw socket, and closes it', async () => {
    const answer = await rawUpgrade('/nowhere');
    const [head = '', body = ''] = answer.split('\r\n\r\n');
    const lines = head.split('\r\n');
    expect(lines[0]).toBe('HTTP/1.1 404 Not Found');
    expect(lines).toContain('content-type: application/json; charset=utf-8');
    expect(lines).toContain(`content-length: ${Buffer.byteLength(body)}`);
    expect(lines).toContain('connection: close');
    expect(JSON.parse(body)).toEqual({ error: 'not found' });
  });

  it('refuses an upgrade whose handler throws an HttpError with that status and message', async () => {
    const answer = await rawUpgrade('/busy');
    expect(answer.split('\r\n')[0]).toBe('HTTP/1.1 429 Too Many Requests');
    expect(JSON.parse(answer.split('\r\n\r\n')[1] ?? '')).toEqual({ error: 'too many connections for this user' });
  });
});
