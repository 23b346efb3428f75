import { copyFileSync, existsSync, mkdtempSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fromRoot, repoRoot } from '../paths.ts';
import { allPids, processCommandLine } from '../sandboxes/proc.ts';
import { ensurePodmanApi, podmanServicePidFile, podmanSocketPath, serviceEnv, stopPodmanApi, useTestcontainersOnPodman } from './podman-api.ts';
import { createOwnStore } from './own-store.ts';
import { containersConf } from './podman.ts';

describe("podman's API service for testcontainers", () => {
  it('is one per machine and settings: its socket does not depend on where the checkout is', () => {
    const elsewhere = mkdtempSync(path.join(tmpdir(), 'choiros-clone-'));
    try {
      const clonedConf = path.join(elsewhere, 'containers.conf');
      copyFileSync(fromRoot('scripts', 'containers.conf'), clonedConf);
      expect(podmanSocketPath()).not.toContain(repoRoot);
      expect(podmanSocketPath(clonedConf)).toBe(podmanSocketPath(containersConf()));
    } finally {
      rmSync(elsewhere, { recursive: true, force: true });
    }
  });

  it("reads its settings from a copy beside its socket, not from the checkout that started it (which may be removed)", () => {
    const elsewhere = mkdtempSync(path.join(tmpdir(), 'choiros-clone-'));
    try {
      const clonedConf = path.join(elsewhere, 'containers.conf');
      copyFileSync(fromRoot('scripts', 'containers.conf'), clonedConf);
      const socket = podmanSocketPath(clonedConf);
      const env = serviceEnv(socket, { CONTAINERS_CONF: clonedConf });
      rmSync(elsewhere, { recursive: true, force: true });
      expect(env.CONTAINERS_CONF).toBe(path.join(path.dirname(socket), 'containers.conf'));
      expect(existsSync(env.CONTAINERS_CONF ?? ''), 'the copy outlives the clone').toBe(true);
      expect(readFileSync(env.CONTAINERS_CONF ?? '', 'utf8')).toBe(readFileSync(fromRoot('scripts', 'containers.conf'), 'utf8'));
    } finally {
      rmSync(elsewhere, { recursive: true, force: true });
    }
  });

  it('stops by itself once idle, rather than running for as long as the machine does', async () => {
    const socket = await ensurePodmanApi();
    const service = allPids().map((pid) => processCommandLine(pid) ?? []).find((args) => args.includes(`unix://${socket}`));
    expect(service, `a podman system service on ${socket}`).toBeDefined();
    const idle = Number(/^--time=(\d+)$/.exec(service?.find((arg) => arg.startsWith('--time=')) ?? '')?.[1]);
    expect(idle).toBeGreaterThan(0);
  });

  it('runs from /, not from the folder it was started in, which may be removed while it serves (a clone, a scratch copy)', async () => {
    // A store of its own, so this test starts a service of its own rather than finding the machine's.
    const store = await createOwnStore('choiros-api-cwd-', 'vfs', '/var/tmp');
    const startedIn = mkdtempSync(path.join(tmpdir(), 'choiros-clone-'));
    const before = { cwd: process.cwd(), storageConf: process.env.CONTAINERS_STORAGE_CONF };
    let socket = '';
    try {
      process.env.CONTAINERS_STORAGE_CONF = store.env.CONTAINERS_STORAGE_CONF;
      process.chdir(startedIn);
      socket = await ensurePodmanApi();
      const pid = Number(readFileSync(podmanServicePidFile(socket), 'utf8'));
      expect(readlinkSync(`/proc/${pid}/cwd`)).toBe('/');
    } finally {
      process.chdir(before.cwd);
      if (before.storageConf === undefined) delete process.env.CONTAINERS_STORAGE_CONF;
      else process.env.CONTAINERS_STORAGE_CONF = before.storageConf;
      if (socket) await stopPodmanApi(socket);
      rmSync(startedIn, { recursive: true, force: true });
      await store.remove();
    }
  });

  it('is one per image store too: a run with a store of its own gets a service of its own, the same one however the store is named', () => {
    const conf = fromRoot('scripts', 'containers.conf');
    const machine = podmanSocketPath(conf, undefined);
    const own = podmanSocketPath(conf, '/var/tmp/some-run-store/storage.conf');
    expect(own).not.toBe(machine);
    expect(podmanSocketPath(conf, '/var/tmp/other-run-store/storage.conf')).not.toBe(own);
    expect(podmanSocketPath(conf, '/var/tmp/some-run-store/../some-run-store/storage.conf')).toBe(own);
  });

  it('points testcontainers at the socket on loopback, without ryuk', () => {
    const names = ['DOCKER_HOST', 'TESTCONTAINERS_RYUK_DISABLED', 'TESTCONTAINERS_HOST_OVERRIDE'] as const;
    const before = names.map((name) => process.env[name]);
    try {
      useTestcontainersOnPodman('/tmp/choiros-gates-podman-test/podman.sock');
      expect(names.map((name) => process.env[name])).toEqual(['unix:///tmp/choiros-gates-podman-test/podman.sock', 'true', '127.0.0.1']);
    } finally {
      names.forEach((name, i) => {
        const value = before[i];
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      });
    }
  });
});
