import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { request } from 'undici';
import { checkCacheReachable } from './measure.ts';
import { startBinaryCache } from './server.ts';
import { countCacheLog, countTranscript, narinfoName } from './transcript.ts';
import { CacheUnreachableError } from './errors.ts';

const hash = '0123456789abcdfghijklmnpqrsvwxyz';

describe('the HTTP binary cache on 127.0.0.1', () => {
  it('speaks the protocol Nix uses: nix-cache-info, narinfo 404 then PUT and 200, NAR PUT and GET, each request logged', async () => {
    const cache = await startBinaryCache(mkdtempSync(path.join(tmpdir(), 'cache-')));
    try {
      const info = await request(`${cache.url}/nix-cache-info`);
      expect(await info.body.text()).toContain('StoreDir: /nix/store');
      const miss = await request(`${cache.url}/${hash}.narinfo`, { method: 'HEAD' });
      expect(miss.statusCode).toBe(404);
      await miss.body.dump();
      const put = await request(`${cache.url}/${hash}.narinfo`, { method: 'PUT', body: 'StorePath: /nix/store/x\n' });
      expect(put.statusCode).toBe(200);
      await put.body.dump();
      const hit = await request(`${cache.url}/${hash}.narinfo`);
      expect(await hit.body.text()).toBe('StorePath: /nix/store/x\n');
      await (await request(`${cache.url}/nar/abc.nar.zst`, { method: 'PUT', body: 'nar-bytes' })).body.dump();
      expect(await (await request(`${cache.url}/nar/abc.nar.zst`)).body.text()).toBe('nar-bytes');
      const outside = await request(`${cache.url}/../etc/passwd`);
      expect(outside.statusCode).toBe(404);
      await outside.body.dump();
      expect(countCacheLog(cache.requests)).toEqual({ narinfoHits: 1, narinfoMisses: 1, narsServed: 1, narBytes: 9 });
      expect(cache.requests.map((r) => `${r.method} ${r.status}`)).toEqual(['GET 200', 'HEAD 404', 'PUT 200', 'GET 200', 'PUT 200', 'GET 200', 'GET 404']);
    } finally {
      await cache.close();
    }
  });

  it('an unreachable cache is named with its URL and the error', async () => {
    const cache = await startBinaryCache(mkdtempSync(path.join(tmpdir(), 'cache-')));
    await cache.close();
    await expect(checkCacheReachable(cache.url)).rejects.toThrow(CacheUnreachableError);
    await expect(checkCacheReachable(cache.url)).rejects.toThrow(`the binary cache at ${cache.url} cannot be reached (ECONNREFUSED)`);
  });
});

describe("counting hits and misses from Nix's own transcript", () => {
  it('copying path … from the cache is a hit, building … .drv a miss, an unsigned substitute a refusal', () => {
    const log = [
      "copying path '/nix/store/aaaa-choiros-app-0.1.0' from 'http://127.0.0.1:1234'...",
      "copying path '/nix/store/bbbb-other' from 'https://cache.nixos.org'...",
      "building '/nix/store/cccc-choiros-sandbox-0.1.0.drv'...",
      `warning: the substitute for '/nix/store/${hash}-nodejs-24' from 'http://127.0.0.1:1234' is not signed by any of the keys in 'trusted-public-keys'`,
    ].join('\n');
    expect(countTranscript(log, 'http://127.0.0.1:1234')).toEqual({ hits: ['/nix/store/aaaa-choiros-app-0.1.0'], misses: ['/nix/store/cccc-choiros-sandbox-0.1.0.drv'], refused: [`/nix/store/${hash}-nodejs-24`] });
    expect(narinfoName(`/nix/store/${hash}-nodejs-24`)).toBe(`${hash}.narinfo`);
  });
});
