import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { fetch } from 'undici';
import { HttpError } from '../http/errors.ts';
import { askedHeaders } from './answer-headers.ts';
import { startSandboxInProcess, type InProcessSandbox } from './testing/sandbox-in-process.ts';

let sandbox: InProcessSandbox;

beforeAll(async () => {
  sandbox = await startSandboxInProcess();
});

afterAll(async () => {
  await sandbox?.dispose();
});

const asked = (query: string) => askedHeaders(new URL(`http://sandbox/diagnostics/answer-headers?${query}`));

function refusal(query: string): HttpError | undefined {
  try {
    asked(query);
  } catch (error) {
    if (error instanceof HttpError) return error;
    throw error;
  }
  return undefined;
}

describe('the answer-headers diagnostic', () => {
  test('every origin-state header is taken, names in any case, repeated names kept in order', () => {
    const all = ['set-cookie', 'clear-site-data', 'service-worker-allowed', 'strict-transport-security', 'nel', 'report-to', 'reporting-endpoints', 'alt-svc'];
    expect(Object.keys(asked(all.map((name) => `${name}=v`).join('&')))).toEqual(all);
    expect(asked('Set-Cookie=a%3D1&SET-COOKIE=b%3D2&nel=%7B%7D')).toEqual({ 'set-cookie': ['a=1', 'b=2'], nel: ['{}'] });
    expect(asked('report-to=a%09b')).toEqual({ 'report-to': ['a\tb'] });
  });

  test('any other name, or a value with a control character, is refused with 400 naming the parameter', () => {
    for (const query of ['location=/x', 'content-type=text/html', 'set-cookie2=a', 'Location=/x']) {
      expect(refusal(query)?.status, query).toBe(400);
      expect(refusal(query)?.details.field, query).toBe(query.split('=')[0]);
    }
    for (const value of ['a%0Db', 'a%0Ab', 'a%00', 'a%7F']) {
      expect(refusal(`Set-Cookie=${value}`)?.status, value).toBe(400);
      expect(refusal(`Set-Cookie=${value}`)?.message, value).toMatch(/control character/);
    }
  });

  test('only a request sending x-sandbox-diagnostic: answer-headers gets the headers, each value asked for; any other gets 400 and none of them', async () => {
    const url = `${sandbox.url}/diagnostics/answer-headers?set-cookie=a%3D1`;
    for (const headers of [{}, { 'x-sandbox-diagnostic': 'received' }]) {
      const refused = await fetch(url, { headers });
      expect(refused.status, JSON.stringify(headers)).toBe(400);
      expect(refused.headers.getSetCookie()).toEqual([]);
      expect(((await refused.json()) as { field: string }).field).toBe('x-sandbox-diagnostic');
    }
    const answered = await fetch(`${url}&Set-Cookie=b%3D2&nel=%7B%7D`, { headers: { 'x-sandbox-diagnostic': 'answer-headers' } });
    expect(answered.status).toBe(200);
    expect(answered.headers.getSetCookie(), 'every value asked for, in order').toEqual(['a=1', 'b=2']);
    expect(answered.headers.get('nel')).toBe('{}');
    expect(await answered.json()).toEqual({ sent: { 'set-cookie': ['a=1', 'b=2'], nel: ['{}'] } });
    expect(answered.headers.get('x-content-type-options')).toBe('nosniff');
  });
});
