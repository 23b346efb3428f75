import { describe, expect, it } from 'vitest';
import { fromRoot } from '../paths.ts';
import { podmanEnv } from './podman.ts';

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
