import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { fromRoot } from '../hypervisor/paths.ts';
import { requireNginx, startNginx } from './nginx.ts';

const missing = '/nonexistent/choiros-bench/nginx';

describe("the proxy bench's nginx baseline", () => {
  it('a missing nginx is a clear error saying how to get it', async () => {
    expect(() => requireNginx(missing)).toThrow(/nginx is missing \(\/nonexistent\/choiros-bench\/nginx\).*apt-get install -y nginx-light.*NGINX_BINARY/);
    await expect(startNginx(1, missing)).rejects.toThrow(/nginx is missing/);
  });

  it('npm run bench -- proxy without nginx says so before starting anything, and exits non-zero', async () => {
    const run = await execa(process.execPath, [fromRoot('bench', 'proxy.bench.ts')], { env: { ...process.env, NGINX_BINARY: missing }, reject: false, all: true, timeout: 60_000 });
    expect(run.exitCode).not.toBe(0);
    expect(run.all).toMatch(/nginx is missing \(\/nonexistent\/choiros-bench\/nginx\)/);
    expect(run.all).not.toMatch(/ENOENT/);
    expect(run.all).not.toMatch(/hypervisor\.listening/);
  });
});
