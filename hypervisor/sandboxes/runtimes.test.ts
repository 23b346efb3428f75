import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { SandboxesConfig } from '../config.ts';
import { createLogger } from '../log.ts';
import { PodmanError } from '../podman/podman.ts';
import { PodmanRuntime } from './podman-runtime.ts';
import type { SandboxRuntime } from './runtime.ts';
import { Runtimes } from './runtimes.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/**
 * A shell script stands in for podman: `podman version` fails while the file `broken` is beside it
 * and answers otherwise; every call is recorded.
 */
function fakePodman(): { binary: string; dir: string; versionCalls: () => number } {
  const dir = mkdtempSync(path.join(tmpdir(), 'choiros-runtimes-'));
  dirs.push(dir);
  const binary = path.join(dir, 'podman');
  writeFileSync(
    binary,
    `#!/bin/sh\necho "$1" >> '${dir}/calls'\ncase "$1" in\nversion) if [ -e '${dir}/broken' ]; then echo 'cannot connect' >&2; exit 125; fi; echo 5.0.0 ;;\nevents) exec sleep 600 ;;\nesac\n`,
  );
  chmodSync(binary, 0o755);
  const versionCalls = (): number => readFileSync(path.join(dir, 'calls'), 'utf8').split('\n').filter((call) => call === 'version').length;
  return { binary, dir, versionCalls };
}

function runtimes(podmanBinary: string, dataRoot: string, overrides: Partial<Record<'podman' | 'process', SandboxRuntime>> = {}): Runtimes {
  const config: SandboxesConfig = { runtime: 'podman', image: 'img', podmanBinary, dataRoot, instanceId: 'hv-test', idleTimeoutSecs: 0, readyTimeoutMs: 1_000, stopTimeoutSecs: 1, restartLimit: 3, restartBackoffMs: 10 };
  return new Runtimes(config, createLogger('runtimes-test', { write: () => undefined }), overrides);
}

describe("the manager's runtimes", () => {
  it('are created and checked once per kind, however many ask at once', async () => {
    const podman = fakePodman();
    const all = runtimes(podman.binary, podman.dir);
    try {
      const [first, second] = await Promise.all([all.get('podman'), all.get('podman')]);
      const third = await all.get('podman');
      expect(first).toBeInstanceOf(PodmanRuntime);
      expect(second).toBe(first);
      expect(third).toBe(first);
      expect(podman.versionCalls()).toBe(1);
    } finally {
      await all.close();
    }
  });

  it('forget a failed check, so the next use checks again (podman installed or fixed meanwhile)', async () => {
    const podman = fakePodman();
    writeFileSync(path.join(podman.dir, 'broken'), '');
    const all = runtimes(podman.binary, podman.dir);
    try {
      await expect(all.get('podman')).rejects.toThrow(PodmanError);
      await expect(all.get('podman')).rejects.toThrow(/cannot connect/);
      rmSync(path.join(podman.dir, 'broken'));
      expect(await all.get('podman')).toBeInstanceOf(PodmanRuntime);
      expect(podman.versionCalls()).toBe(3);
    } finally {
      await all.close();
    }
  });

  it('use a stand-in for its own kind only, and close every runtime they created', async () => {
    const closed: string[] = [];
    const standIn = (kind: 'podman' | 'process'): SandboxRuntime => ({
      kind,
      check: async () => undefined,
      launch: () => Promise.reject(new Error('not in this test')),
      stop: async () => undefined,
      find: async () => [],
      attach: () => {
        throw new Error('not in this test');
      },
      remove: async () => undefined,
      logTail: async () => '',
      close: async () => void closed.push(kind),
    });
    const podmanStandIn = standIn('podman');
    const processStandIn = standIn('process');
    const all = runtimes('/nonexistent/podman', '/nonexistent', { podman: podmanStandIn, process: processStandIn });
    expect(await all.get('podman')).toBe(podmanStandIn);
    expect(await all.get('process')).toBe(processStandIn);
    await all.close();
    expect(closed.sort()).toEqual(['podman', 'process']);
  });
});
