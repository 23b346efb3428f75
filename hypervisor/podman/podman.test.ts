import { afterEach, describe, expect, it, vi } from 'vitest';
import { fromRoot } from '../paths.ts';
import { podman, podmanEnv, PodmanError } from './podman.ts';

describe('podman environment', () => {
  it('passes podman what it needs and nothing else: no proxy variable, no platform secret', () => {
    const conf = fromRoot('scripts', 'containers.conf');
    const env = podmanEnv({ PATH: '/usr/bin', HOME: '/root', CONTAINERS_CONF: conf, HTTPS_PROXY: 'http://u:p@127.0.0.1:1', http_proxy: 'http://u:p@127.0.0.1:1', no_proxy: 'x', OPENAI_API_KEY: 'sk-x', HYPERVISOR_ADMIN_TOKEN: 't' });
    expect(env).toEqual({ PATH: '/usr/bin', HOME: '/root', CONTAINERS_CONF: conf });
  });

  it('keeps the settings podman documents for storage and remote or rootless use', () => {
    const settings = { STORAGE_DRIVER: 'vfs', STORAGE_OPTS: 'size=1G', CONTAINER_HOST: 'ssh://h/run/podman.sock', CONTAINER_CONNECTION: 'h', CONTAINER_SSHKEY: '/k', DBUS_SESSION_BUS_ADDRESS: 'unix:path=/run/user/1000/bus', XDG_RUNTIME_DIR: '/run/user/1000' };
    expect(podmanEnv({ ...settings, CONTAINERS_CONF: '/nonexistent.conf' })).toEqual(settings);
  });
});

// /bin/sh stands in for the podman binary: the same call, its arguments, environment and answer seen from outside.
describe('running podman', () => {
  afterEach(() => vi.unstubAllEnvs());

  it('passes settings over our environment, and still only podman\'s names, with the input on stdin', async () => {
    vi.stubEnv('HYPERVISOR_ADMIN_TOKEN', 'platform-secret');
    const printed = await podman(['-c', 'cat; env'], { binary: '/bin/sh', input: 'from stdin\n', timeoutMs: 20_000, env: { CONTAINERS_STORAGE_CONF: '/var/tmp/other-store.conf', OPENAI_API_KEY: 'sk-x' } });
    const lines = printed.split('\n');
    expect(lines[0]).toBe('from stdin');
    expect(lines).toContain('CONTAINERS_STORAGE_CONF=/var/tmp/other-store.conf');
    expect(printed).not.toContain('sk-x');
    expect(printed).not.toContain('platform-secret');
  });

  it('gives a call without its own timeout minutes, not milliseconds: a half-second call answers', async () => {
    expect(await podman(['-c', 'sleep 0.5; echo answered'], { binary: '/bin/sh' })).toBe('answered');
  });

  it('a failed call is a PodmanError naming the binary, the arguments, the exit code and what podman said', async () => {
    const failing = podman(['-c', 'echo no such container >&2; exit 125'], { binary: '/bin/sh' });
    await expect(failing).rejects.toThrow(PodmanError);
    const error = (await failing.catch((e: unknown) => e)) as PodmanError;
    expect(error.exitCode).toBe(125);
    expect(error.args).toEqual(['-c', 'echo no such container >&2; exit 125']);
    expect(error.message).toBe('/bin/sh -c echo no such container >&2; exit 125 failed (exit 125): no such container. Check that podman works on this host (npm run setup prepares it).');
  });

  it('a missing binary is a PodmanError saying so and how to fix it', async () => {
    const error = (await podman(['ps'], { binary: '/nonexistent/podman' }).catch((e: unknown) => e)) as PodmanError;
    expect(error).toBeInstanceOf(PodmanError);
    expect(error.message).toContain('/nonexistent/podman ps failed');
    expect(error.message).toContain('not found');
    expect(error.message).toContain('The podman binary "/nonexistent/podman" was not found: install podman (npm run setup does it on Debian) or set SANDBOX_PODMAN_BINARY.');
  });
});
