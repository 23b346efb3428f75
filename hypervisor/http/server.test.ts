import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectingLogger } from '../routing/testing/collecting-logger.ts';
import { HttpError } from './errors.ts';
import { pipelinesOnLoopback } from './testing/pipelines-on-loopback.ts';

/** Each handler refuses with the HttpError the hypervisor's own routes throw (admin auth, rate limits). */
const unauthorized = () => new HttpError(401, 'admin routes need an Authorization: Bearer <admin token> header', {}, { 'www-authenticate': 'Bearer realm="choiros-admin"' });
const limited = () => new HttpError(429, 'too many failed login attempts: try again in 7 s', { attempts: 5 }, { 'retry-after': '7' });
const refusalFor = (path: string): HttpError | undefined => (path === '/admin/limited' ? limited() : path === '/admin/locked' ? unauthorized() : undefined);

let close: () => Promise<void>;
let port: number;
const { logger, events } = collectingLogger();

beforeAll(async () => {
  ({ port, close } = await pipelinesOnLoopback(
    {
      request: [
        async (_req, res, url) => {
          const refusal = refusalFor(url.pathname);
          if (refusal) throw refusal;
          if (url.pathname === '/admin/boom') throw new Error('database is locked at /var/lib/choiros/hypervisor.db');
          if (url.pathname === '/admin/export') {
            res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
            res.write('{"users":[');
            throw new Error('the export cursor failed after 10 bytes');
          }
          return false;
        },
      ],
      upgrade: [
        async (_req, _socket, _head, url) => {
          const refusal = refusalFor(url.pathname);
          if (refusal) throw refusal;
          if (url.pathname === '/admin/boom') throw new Error('database is locked at /var/lib/choiros/hypervisor.db');
          return false;
        },
      ],
    },
    logger,
  ));
});

afterAll(() => close());

interface RawAnswer {
  statusLine: string;
  /** Header names lowercased. */
  headers: Map<string, string>;
  body: string;
}

/** Writes `head` as is on a fresh connection and reads everything until the connection closes (cut or ended). */
function exchange(head: string): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString('utf8')));
    socket.on('close', () => {
      const [top = '', ...rest] = answer.split('\r\n\r\n');
      const [statusLine = '', ...lines] = top.split('\r\n');
      const headers = new Map(lines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]));
      resolve({ statusLine, headers, body: rest.join('\r\n\r\n') });
    });
    // A connection the server cuts may end in a reset: what arrived before it is the answer.
    socket.on('error', () => undefined);
    socket.write(head);
  });
}

const plainRequest = (target: string) => exchange(`GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
const upgradeRequest = (target: string) =>
  exchange(`GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`);

describe('the HTTP server answers an HttpError as JSON with its status and its headers', () => {
  it('a request: the status, every header the error carries, and {error, ...details}', async () => {
    const answer = await plainRequest('/admin/limited');
    expect(answer.statusLine).toBe('HTTP/1.1 429 Too Many Requests');
    expect(answer.headers.get('retry-after')).toBe('7');
    expect(answer.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(JSON.parse(answer.body)).toEqual({ error: 'too many failed login attempts: try again in 7 s', attempts: 5 });
    expect((await plainRequest('/admin/locked')).headers.get('www-authenticate')).toBe('Bearer realm="choiros-admin"');
  });

  it('an upgrade, on the raw socket: the status and every header the error carries (Retry-After, WWW-Authenticate), then closed', async () => {
    const limitedAnswer = await upgradeRequest('/admin/limited');
    expect(limitedAnswer.statusLine).toBe('HTTP/1.1 429 Too Many Requests');
    expect(limitedAnswer.headers.get('retry-after')).toBe('7');
    expect(JSON.parse(limitedAnswer.body)).toMatchObject({ error: 'too many failed login attempts: try again in 7 s' });
    const locked = await upgradeRequest('/admin/locked');
    expect(locked.statusLine).toBe('HTTP/1.1 401 Unauthorized');
    expect(locked.headers.get('www-authenticate')).toBe('Bearer realm="choiros-admin"');
    expect(locked.headers.get('connection')).toBe('close');
  });

  it('any other error: 500 {error: "internal error"} to the client, and the error itself logged at error level (event http.error, with the path)', async () => {
    const answer = await plainRequest('/admin/boom');
    expect(answer.statusLine).toBe('HTTP/1.1 500 Internal Server Error');
    expect(JSON.parse(answer.body)).toEqual({ error: 'internal error' });
    expect(events().filter((event) => event.event === 'http.error')).toEqual([expect.objectContaining({ path: '/admin/boom', error: 'database is locked at /var/lib/choiros/hypervisor.db', level: 50 })]);
  });
});

describe('the HTTP server when a handler fails with anything but an HttpError', () => {
  it('an upgrade: 500 {error: "internal error"} on the raw socket, the error itself only in the log (event http.upgrade_error)', async () => {
    const answer = await upgradeRequest('/admin/boom');
    expect(answer.statusLine).toBe('HTTP/1.1 500 Internal Server Error');
    expect(JSON.parse(answer.body)).toEqual({ error: 'internal error' });
    expect(events().filter((event) => event.event === 'http.upgrade_error')).toContainEqual(expect.objectContaining({ path: '/admin/boom', error: 'database is locked at /var/lib/choiros/hypervisor.db' }));
  });

  it('after its response began: the connection is cut short (no second answer), and the error logged at error level (event http.error_after_headers)', async () => {
    const answer = await plainRequest('/admin/export');
    expect(answer.statusLine).toBe('HTTP/1.1 200 OK');
    expect(answer.body).toBe('{"users":[');
    expect(events().filter((event) => event.event === 'http.error_after_headers')).toEqual([expect.objectContaining({ path: '/admin/export', error: 'the export cursor failed after 10 bytes', level: 50 })]);
  });
});

describe('the HTTP server refuses a request target that is not a path with 400, naming it', () => {
  it.each([['http://evil.example/admin'], ['*']])('%s: a request gets 400 JSON, an upgrade a 400 on the raw socket', async (target) => {
    const answer = await plainRequest(target);
    expect(answer.statusLine).toBe('HTTP/1.1 400 Bad Request');
    expect(JSON.parse(answer.body)).toEqual({ error: `bad request target ${JSON.stringify(target)}` });
    expect((await upgradeRequest(target)).statusLine).toBe('HTTP/1.1 400 Bad Request');
  });
});
