import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../log.ts';
import { readJsonObject, sendJson } from './json.ts';
import { createHttpServer } from './server.ts';

/** A real server whose /echo route echoes the JSON object it reads (limit 100 bytes); /echo-default reads with the default limit. */
let server: Server;
let base: string;

beforeAll(async () => {
  const log = createLogger('test', { write: () => undefined });
  server = createHttpServer(
    () => ({
      request: [
        async (req, res, url) => {
          if (url.pathname !== '/echo') return false;
          sendJson(res, 200, await readJsonObject(req, 100));
          return true;
        },
        async (req, res, url) => {
          if (url.pathname !== '/echo-default') return false;
          sendJson(res, 200, { keys: Object.keys(await readJsonObject(req)) });
          return true;
        },
        async (_req, _res, url) => {
          if (url.pathname === '/boom') throw new Error('internal detail');
          return false;
        },
      ],
      upgrade: [],
    }),
    log,
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

/** A body sent chunked in two parts, with no content-length: its size is only known once read. */
const streamed = (body: string): Readable => Readable.from([Buffer.from(body.slice(0, 10)), Buffer.from(body.slice(10))]);

async function post(path: string, body: string | Readable, type = 'application/json'): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await request(`${base}${path}`, { method: 'POST', body, headers: { 'content-type': type } });
  return { status: res.statusCode, body: (await res.body.json()) as Record<string, unknown> };
}

describe('JSON bodies and errors', () => {
  it('reads a JSON object', async () => {
    expect(await post('/echo', '{"a":1}')).toEqual({ status: 200, body: { a: 1 } });
  });

  it('answers 400 naming the problem for malformed JSON', async () => {
    const answer = await post('/echo', '{"a":');
    expect(answer.status).toBe(400);
    expect(answer.body.error).toMatch(/^request body is not valid JSON: /);
  });

  it('answers 400 when the body is JSON but not an object', async () => {
    expect(await post('/echo', '[1,2]')).toEqual({ status: 400, body: { error: 'request body must be a JSON object, got an array' } });
  });

  it('answers 413 for a body over the limit', async () => {
    const answer = await post('/echo', JSON.stringify({ a: 'x'.repeat(200) }));
    expect(answer.status).toBe(413);
    expect(answer.body.error).toMatch(/request body too large: \d+ bytes, the limit is 100/);
  });

  it('takes a body of exactly the limit, whether its length is declared or it comes chunked', async () => {
    const atLimit = JSON.stringify({ a: 'x'.repeat(92) });
    expect(Buffer.byteLength(atLimit)).toBe(100);
    expect((await post('/echo', atLimit)).status).toBe(200);
    expect((await post('/echo', streamed(atLimit))).status).toBe(200);
  });

  it('takes bodies of up to 64 KiB by default (65536 bytes) and refuses one byte more with 413', async () => {
    const ofSize = (bytes: number): string => JSON.stringify({ a: 'x'.repeat(bytes - 8) });
    expect(Buffer.byteLength(ofSize(64 * 1024))).toBe(65_536);
    expect(await post('/echo-default', ofSize(64 * 1024))).toEqual({ status: 200, body: { keys: ['a'] } });
    expect(await post('/echo-default', ofSize(64 * 1024 + 1))).toEqual({ status: 413, body: { error: 'request body too large: 65537 bytes, the limit is 65536' } });
  });

  it('answers 413 for a chunked body (no content-length) once it passes the limit, one byte over included', async () => {
    const overLimit = JSON.stringify({ a: 'x'.repeat(93) });
    expect(await post('/echo', streamed(overLimit))).toEqual({ status: 413, body: { error: 'request body too large: more than 100 bytes' } });
    expect((await post('/echo', overLimit)).status).toBe(413);
  });

  it('answers 415 for a body that says it is not JSON, even one that names JSON further along; takes application/json and application/*+json', async () => {
    expect((await post('/echo', 'a=1', 'application/x-www-form-urlencoded')).status).toBe(415);
    expect((await post('/echo', '{"a":1}', 'text/plain; note=application/json')).status).toBe(415);
    expect((await post('/echo', '{"a":1}', 'application/merge-patch+json')).status).toBe(200);
  });

  // Only a type that names something else is refused: a client that sends a raw body and no content-type (a script, curl --data-binary with the header removed) is read as JSON.
  it('reads a JSON body sent with no content-type at all', async () => {
    const res = await request(`${base}/echo`, { method: 'POST', body: '{"a":1}' });
    expect({ status: res.statusCode, body: await res.body.json() }).toEqual({ status: 200, body: { a: 1 } });
  });

  // What many HTTP clients send: the media type with parameters after it.
  it.each(['application/json; charset=utf-8', 'application/json;charset=UTF-8', 'Application/JSON', 'application/merge-patch+json; charset=utf-8'])('takes a JSON body sent as %s', async (type) => {
    expect((await post('/echo', '{"a":1}', type)).status).toBe(200);
  });

  it('answers 404 JSON for what no handler takes, and 500 without internals for a failing handler', async () => {
    const missing = await request(`${base}/nowhere`);
    expect(missing.statusCode).toBe(404);
    expect(await missing.body.json()).toEqual({ error: 'not found', path: '/nowhere' });
    const boom = await request(`${base}/boom`);
    expect(boom.statusCode).toBe(500);
    expect(await boom.body.json()).toEqual({ error: 'internal error' });
  });
});
