import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { installDeployKey } from './deploy-key.ts';

describe('installDeployKey (the nightly runner\'s GATE_SSH_KEY to deploy.ssh.identityFile)', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'choiros-deploy-key-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const target = (identityFile: string) =>
    writeFile(
      path.join(dir, 'prod.json'),
      JSON.stringify({
        hypervisor: { url: 'https://choiros.example.com' },
        deploy: { ssh: { host: 'choiros.example.com', identityFile, hostKey: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGate' }, healthUrl: 'https://choiros.example.com/health', routing: { hostName: 'choiros.example.com', tls: 'internal' } },
      }),
    );
  const env = (key: string | undefined) => ({ GATE_TARGET: 'prod', GATE_TARGETS_DIR: dir, ...(key === undefined ? {} : { GATE_SSH_KEY: key }) });

  it('writes the key to the identity file the description names, 0600, with its final newline', async () => {
    await target('keys/deploy');
    const { written } = await installDeployKey(env('-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----'));
    expect(written).toBe(path.join(dir, 'keys', 'deploy'));
    expect(await readFile(written!, 'utf8')).toBe('-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----\n');
    expect((await stat(written!)).mode & 0o777).toBe(0o600);
    expect((await stat(path.dirname(written!))).mode & 0o077).toBe(0);
  });

  it('leaves an existing key file as it is', async () => {
    await target('deploy');
    await writeFile(path.join(dir, 'deploy'), 'a person\'s own key\n');
    expect(await installDeployKey(env('another'))).toMatchObject({ written: undefined, why: expect.stringContaining('exists already') });
    expect(await readFile(path.join(dir, 'deploy'), 'utf8')).toBe('a person\'s own key\n');
  });

  it('names GATE_SSH_KEY and the target when the secret is empty', async () => {
    await target('deploy');
    await expect(installDeployKey(env(''))).rejects.toThrow(/GATE_SSH_KEY is empty.*"prod" environment.*choiros\.example\.com/);
  });

  it('leaves an existing key file alone even without the secret', async () => {
    await target('deploy');
    await writeFile(path.join(dir, 'deploy'), 'a person\'s own key\n');
    expect(await installDeployKey(env(undefined))).toMatchObject({ written: undefined, why: expect.stringContaining('exists already') });
  });

  it('refuses a description whose known_hosts file this machine lacks, naming deploy.ssh.hostKey as the way for CI', async () => {
    await writeFile(
      path.join(dir, 'prod.json'),
      JSON.stringify({
        hypervisor: { url: 'https://choiros.example.com' },
        deploy: { ssh: { host: 'choiros.example.com', identityFile: 'deploy', knownHostsFile: 'known_hosts' }, healthUrl: 'https://choiros.example.com/health', routing: { hostName: 'choiros.example.com', tls: 'internal' } },
      }),
    );
    await expect(installDeployKey(env('a key'))).rejects.toThrow(/deploy\.ssh\.knownHostsFile .*known_hosts.* does not exist.*deploy\.ssh\.hostKey/);
  });

  it('writes nothing for a target without a deploy section', async () => {
    await writeFile(path.join(dir, 'plain.json'), JSON.stringify({ hypervisor: { url: 'https://choiros.example.com' } }));
    expect(await installDeployKey({ GATE_TARGET: 'plain', GATE_TARGETS_DIR: dir })).toMatchObject({ written: undefined, why: expect.stringContaining('no "deploy" section') });
  });
});
