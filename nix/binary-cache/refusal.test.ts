import { describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { measureCache } from './measure.ts';
import { CacheSignatureRefusedError, CacheUnreachableError } from './errors.ts';
import { generateSigningKey } from './signing-key.ts';

// The desktop is the smallest output: one derivation, a few KB in the cache.
describe('the warm build refuses a cache it cannot trust, with the real nix CLI', { timeout: 240_000 }, () => {
  it('a tampered narinfo is refused, and named', async () => {
    const workDir = mkdtempSync(path.join(tmpdir(), 'cache-tamper-'));
    let tampered = '';
    const attempt = measureCache({
      workDir,
      outputs: ['desktop'],
      afterPush: (cache) => {
        const narinfo = readdirSync(cache.dir).find((f) => f.endsWith('.narinfo'));
        if (!narinfo) throw new Error('the push left no narinfo');
        tampered = narinfo;
        const file = path.join(cache.dir, narinfo);
        // A different NAR size: the signature over the fingerprint no longer matches.
        writeFileSync(file, readFileSync(file, 'utf8').replace(/^NarSize: (\d+)$/m, (_, n: string) => `NarSize: ${Number(n) + 1}`));
      },
    });
    await expect(attempt).rejects.toThrow(CacheSignatureRefusedError);
    await expect(attempt).rejects.toThrow(new RegExp(`Nix refused 1 substitute\\(s\\) from http://127.0.0.1:\\d+ as not signed by a trusted key: ${tampered}`));
  });

  it('a cache signed with another key is refused, and the trusted key named', async () => {
    const workDir = mkdtempSync(path.join(tmpdir(), 'cache-wrong-key-'));
    const other = await generateSigningKey(path.join(workDir, 'other'), 'someone-elses-cache-1');
    const attempt = measureCache({ workDir, outputs: ['desktop'], trustedPublicKey: other.publicKey });
    await expect(attempt).rejects.toThrow(/not signed by a trusted key: [0-9a-z]{32}\.narinfo\. Trusted: someone-elses-cache-1\./);
  });

  it('an unreachable cache stops the warm build with its URL and the error', async () => {
    const workDir = mkdtempSync(path.join(tmpdir(), 'cache-unreachable-'));
    const attempt = measureCache({ workDir, outputs: ['desktop'], warmCacheUrl: 'http://127.0.0.1:9' });
    await expect(attempt).rejects.toThrow(CacheUnreachableError);
    await expect(attempt).rejects.toThrow('the binary cache at http://127.0.0.1:9 cannot be reached (ECONNREFUSED)');
  });
});
