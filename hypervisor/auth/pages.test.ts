import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { routeOnLoopback } from '../http/testing/route-on-loopback.ts';
import { isPagePath, serveAsset, servePage } from './pages.ts';

let served: Awaited<ReturnType<typeof routeOnLoopback>>;

beforeAll(async () => {
  served = await routeOnLoopback(async (req, res, url) => {
    if (isPagePath(url.pathname)) {
      servePage(res, url.pathname, req.method ?? 'GET');
      return true;
    }
    return serveAsset(res, url.pathname, req.method ?? 'GET');
  });
});

afterAll(() => served.close());

describe('the auth pages and their assets', () => {
  it('serves each page as HTML that is never cached, under the CSP that forbids inline script and framing', async () => {
    for (const path of ['/login', '/register', '/recovery']) {
      const res = await request(`${served.url}${path}`);
      expect(res.statusCode, path).toBe(200);
      expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(res.headers['cache-control'], path).toBe('no-store');
      expect(res.headers['content-security-policy']).toMatch(/script-src 'self';.*frame-ancestors 'none'/);
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(await res.body.text()).toContain(`data-page="${path.slice(1)}"`);
    }
  });

  it('answers HEAD of an asset with its headers and no body, and caches assets for 5 minutes', async () => {
    const get = await request(`${served.url}/auth/assets/auth.js`);
    const body = await get.body.text();
    expect(get.headers['cache-control']).toBe('public, max-age=300');
    const head = await request(`${served.url}/auth/assets/auth.js`, { method: 'HEAD' });
    expect(head.statusCode).toBe(200);
    expect(head.headers['content-length']).toBe(String(Buffer.byteLength(body)));
    expect(await head.body.text()).toBe('');
  });

  it('takes only its own pages and assets: an object key such as /constructor or an unknown asset is not one', async () => {
    expect(['/login', '/register', '/recovery'].map(isPagePath)).toEqual([true, true, true]);
    expect(['/constructor', '/toString', '/login/', '/auth/me'].map(isPagePath)).toEqual([false, false, false, false]);
    const res = await request(`${served.url}/auth/assets/missing.js`);
    await res.body.dump();
    expect(res.statusCode).toBe(404);
  });
});
