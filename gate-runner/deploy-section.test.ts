import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DescriptionFields, type JsonObject } from './description-fields.ts';
import { defaultHypervisorPort, readDeploySection } from './deploy-section.ts';

const hostKey = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBase64KeyMaterial';
const deploy = {
  ssh: { host: 'choiros.example.com', identityFile: 'keys/deploy', hostKey },
  healthUrl: 'https://choiros.example.com/health/',
  routing: { hostName: 'choiros.example.com', acmeEmail: 'ops@example.com' },
  adminToken: { env: 'PROD_ADMIN' },
};
const read = (section: JsonObject) => readDeploySection(new DescriptionFields('/targets/prod.json', section, 'deploy'));
const withRouting = (routing: JsonObject) => ({ ...deploy, routing: { ...deploy.routing, ...routing } });

describe("a target description's deploy section", () => {
  it('takes the documented defaults: port 22 as root, the system profile, 120 s of health polling, ACME on 80 and 443, the hypervisor on 8080', () => {
    const section = read(deploy);
    expect(section).toMatchObject({
      ssh: { host: 'choiros.example.com', port: 22, user: 'root', identityFile: '/targets/keys/deploy', hostKey, knownHostsFile: undefined },
      profile: '/nix/var/nix/profiles/system',
      remoteStore: undefined,
      healthUrl: 'https://choiros.example.com/health',
      healthTimeoutSecs: 120,
      routing: { hostName: 'choiros.example.com', httpPort: 80, httpsPort: 443, tls: 'acme', acmeEmail: 'ops@example.com', hypervisorPort: defaultHypervisorPort, bind: undefined },
    });
    expect(defaultHypervisorPort).toBe(8080);
  });

  it('installs the admin token from GATE_ADMIN_TOKEN when the section names none (targets/README.md)', () => {
    const { adminToken: _named, ...unnamed } = deploy;
    expect(read(unnamed)?.adminToken).toMatchObject({ env: 'GATE_ADMIN_TOKEN' });
    expect(read(deploy)?.adminToken).toMatchObject({ env: 'PROD_ADMIN' });
  });

  it('reads ~/ in identityFile and knownHostsFile as the home directory, other relative paths from the description\'s folder', () => {
    const home = process.env.HOME ?? '';
    const { hostKey: _pinned, ...unpinned } = deploy.ssh;
    const section = read({ ...deploy, ssh: { ...unpinned, identityFile: '~/.ssh/choiros-deploy', knownHostsFile: 'known_hosts' } });
    expect(section?.ssh).toMatchObject({ identityFile: path.join(home, '.ssh/choiros-deploy'), knownHostsFile: '/targets/known_hosts' });
  });

  it('pins the host key one way: exactly one of hostKey or knownHostsFile', () => {
    const { hostKey: _pinned, ...unpinned } = deploy.ssh;
    expect(() => read({ ...deploy, ssh: unpinned })).toThrow('deploy.ssh.hostKey or knownHostsFile: set exactly one');
    expect(() => read({ ...deploy, ssh: { ...deploy.ssh, knownHostsFile: 'known_hosts' } })).toThrow('deploy.ssh.hostKey or knownHostsFile: set exactly one');
    expect(read({ ...deploy, ssh: { ...unpinned, knownHostsFile: 'known_hosts' } })?.ssh.knownHostsFile).toBe('/targets/known_hosts');
  });

  it('needs an ACME contact only for ACME certificates', () => {
    const { acmeEmail: _contact, ...noContact } = deploy.routing;
    expect(() => read({ ...deploy, routing: noContact })).toThrow('deploy.routing.acmeEmail is missing: ACME certificates need a contact address');
    expect(read({ ...deploy, routing: { ...noContact, tls: 'internal' } })?.routing).toMatchObject({ tls: 'internal', acmeEmail: undefined });
  });

  it.each([22, 80, 443])("keeps the hypervisor's port off every port the security group opens (%i), even with Caddy on other ports", (port) => {
    expect(() => read(withRouting({ httpPort: 8081, httpsPort: 8443, hypervisorPort: port }))).toThrow(`deploy.routing.hypervisorPort is ${port}, which the security group opens (22, 80, 443)`);
  });

  it("keeps the hypervisor's port off Caddy's own ports when they are moved", () => {
    expect(() => read(withRouting({ httpPort: 8081, hypervisorPort: 8081 }))).toThrow("deploy.routing.hypervisorPort is 8081, the port Caddy serves HTTP on");
    expect(() => read(withRouting({ httpsPort: 8443, hypervisorPort: 8443 }))).toThrow("deploy.routing.hypervisorPort is 8443, the port Caddy serves HTTPS on");
    expect(read(withRouting({ hypervisorPort: 9090 }))?.routing.hypervisorPort).toBe(9090);
  });

  it('takes the health timeout in seconds, from 1 to 900', () => {
    expect(read({ ...deploy, healthTimeoutSecs: 900 })?.healthTimeoutSecs).toBe(900);
    expect(() => read({ ...deploy, healthTimeoutSecs: 901 })).toThrow('deploy.healthTimeoutSecs is 901: use a whole number from 1 to 900 (default 120).');
    expect(() => read({ ...deploy, healthTimeoutSecs: 0 })).toThrow('deploy.healthTimeoutSecs is 0');
  });

  it('reads a ~name path (no slash) from the description\'s folder, not as the home directory', () => {
    expect(read({ ...deploy, ssh: { ...deploy.ssh, identityFile: '~deploy/key' } })?.ssh.identityFile).toBe('/targets/~deploy/key');
  });

  it('takes the host key, host name, login user and profile whole: one key line, no trailing text, an absolute profile', () => {
    expect(() => read({ ...deploy, ssh: { ...deploy.ssh, hostKey: `${hostKey} root@host` } })).toThrow(/deploy\.ssh\.hostKey/);
    expect(() => read({ ...deploy, ssh: { ...deploy.ssh, user: 'root nixos' } })).toThrow(/deploy\.ssh\.user/);
    expect(() => read(withRouting({ hostName: 'choiros.example.com/admin' }))).toThrow(/deploy\.routing\.hostName/);
    expect(() => read({ ...deploy, profile: 'nix/var/nix/profiles/system' })).toThrow(/deploy\.profile/);
  });
});
