import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { lookalikeOrigins } from '../../fixtures/lookalike-origins.ts';
import { checkOrigin } from './origin.ts';

const rpOrigin = 'http://localhost:9090';
// checkOrigin reads only the method and these headers.
const request = (method: string, headers: Record<string, string>): IncomingMessage => ({ method, headers }) as unknown as IncomingMessage;

describe('the cross-site request guard (checkOrigin)', () => {
  it("takes only the relying party's exact origin as its own, on a POST and on a WebSocket upgrade", () => {
    for (const [what, origin] of Object.entries(lookalikeOrigins(rpOrigin))) {
      for (const req of [request('POST', { origin }), request('GET', { origin, upgrade: 'websocket' })]) {
        expect(checkOrigin(req, rpOrigin, { requireOrigin: false }), `${req.method} from ${origin} (${what})`).toEqual({ allowed: false, reason: `origin not allowed: "${origin}" is not ${rpOrigin}` });
      }
    }
    expect(checkOrigin(request('POST', { origin: rpOrigin }), rpOrigin, { requireOrigin: true })).toEqual({ allowed: true });
    expect(checkOrigin(request('GET', { origin: rpOrigin, upgrade: 'websocket' }), rpOrigin, { requireOrigin: false })).toEqual({ allowed: true });
  });

  it('refuses a POST without Origin where one is required, and a cross-site fetch without one elsewhere; lets safe methods through', () => {
    expect(checkOrigin(request('POST', {}), rpOrigin, { requireOrigin: true })).toMatchObject({ allowed: false, reason: expect.stringContaining('origin missing') });
    expect(checkOrigin(request('POST', { 'sec-fetch-site': 'cross-site' }), rpOrigin, { requireOrigin: false })).toEqual({ allowed: false, reason: 'cross-site request refused' });
    expect(checkOrigin(request('POST', {}), rpOrigin, { requireOrigin: false })).toEqual({ allowed: true });
    expect(checkOrigin(request('GET', { origin: 'https://elsewhere.example' }), rpOrigin, { requireOrigin: true })).toEqual({ allowed: true });
    // Only GET, HEAD and OPTIONS are safe: every other method is checked like a POST.
    for (const method of ['PUT', 'PATCH', 'DELETE']) {
      expect(checkOrigin(request(method, { origin: 'https://elsewhere.example' }), rpOrigin, { requireOrigin: false }), method).toMatchObject({ allowed: false });
    }
    expect(checkOrigin(request('OPTIONS', {}), rpOrigin, { requireOrigin: true })).toEqual({ allowed: true });
  });
});
