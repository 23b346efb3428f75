import { rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { request } from 'undici';
import { hypervisorEnv, waitFor } from '../../fixtures/test-hypervisor.ts';
import { serve } from './serve.ts';

// Only the refusals: each returns before anything listens or any sandbox is touched.
describe('npm run hypervisor -- serve refuses to start', () => {
  let stderr: string[];

  afterEach(() => {
    vi.restoreAllMocks();
    vi.unstubAllEnvs();
  });

  const captured = (): void => {
    stderr = [];
    vi.spyOn(console, 'error').mockImplementation((text: string) => void stderr.push(text));
  };

  it('with arguments, even one: exit 2, naming them and where its settings come from', async () => {
    captured();
    // An invalid setting too, so a serve that read the arguments past would still stop before listening.
    vi.stubEnv('HYPERVISOR_DATABASE_URL', 'postgres://db/hypervisor');
    expect(await serve.run(['--port', '9090'])).toBe(2);
    expect(await serve.run(['now'])).toBe(2);
    expect(stderr).toEqual([
      'hypervisor serve takes no arguments (got --port 9090); configure it with environment variables',
      'hypervisor serve takes no arguments (got now); configure it with environment variables',
    ]);
  });

  it('with an invalid setting: exit 2, naming the variable and its value', async () => {
    captured();
    vi.stubEnv('HYPERVISOR_DATABASE_URL', 'postgres://db/hypervisor');
    expect(await serve.run([])).toBe(2);
    expect(stderr.join('\n')).toContain('hypervisor: invalid configuration: HYPERVISOR_DATABASE_URL="postgres://db/hypervisor" is invalid: use sqlite:PATH');
  });

  it('when it cannot listen (the port is taken): exit 1, naming the address and the variables that set it', async () => {
    captured();
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as AddressInfo).port;
    const { dir, env } = hypervisorEnv({ HYPERVISOR_HOST: '127.0.0.1', HYPERVISOR_PORT: String(port) });
    try {
      for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
      expect(await serve.run([])).toBe(1);
      expect(stderr.join('\n')).toContain(`hypervisor: could not start: cannot listen on 127.0.0.1:${port} (HYPERVISOR_HOST/HYPERVISOR_PORT)`);
    } finally {
      await new Promise((resolve) => taken.close(resolve));
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** A port the system handed out and took back: free for the hypervisor to listen on. */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

describe('npm run hypervisor -- serve', () => {
  afterEach(() => vi.unstubAllEnvs());

  it.each([['SIGTERM'], ['SIGINT']] as const)('serves until %s, then stops accepting and exits 0', async (signal) => {
    const port = await freePort();
    const { dir, env } = hypervisorEnv({ HYPERVISOR_HOST: '127.0.0.1', HYPERVISOR_PORT: String(port) });
    const before = process.listenerCount(signal);
    try {
      for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
      const exit = serve.run([]);
      // It waits for the signal once it listens.
      await waitFor(`serve to wait for ${signal}`, () => (process.listenerCount(signal) > before ? true : undefined), 30_000);
      const health = await request(`http://127.0.0.1:${port}/health`);
      expect(health.statusCode).toBe(200);
      await health.body.dump();
      process.emit(signal, signal);
      expect(await exit).toBe(0);
      await expect(request(`http://127.0.0.1:${port}/health`)).rejects.toThrow(/ECONNREFUSED/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
