import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { readAwsSection, readPublicKey } from './aws-section.ts';
import { DescriptionFields, type JsonObject } from './description-fields.ts';
import { tempDir } from './sample-run.ts';

const aws = {
  region: 'us-east-1',
  name: 'choiros-prod',
  ami: 'ami-0123456789abcdef0',
  sshCidrs: ['203.0.113.7/32'],
  keyPair: { name: 'choiros-deploy', publicKeyFile: 'keys/deploy.pub' },
  dns: { hostName: 'choiros.example.com', hostedZone: 'example.com' },
};
const read = (section: JsonObject) => readAwsSection(new DescriptionFields('/targets/prod.json', section, 'aws'));

describe("a target description's aws section", () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('takes the documented defaults: t3a.large, a 50 GiB gp3 root volume at 3000 IOPS, no tags, the real AWS endpoint', () => {
    expect(read(aws)).toMatchObject({ instanceType: 't3a.large', rootVolume: { sizeGiB: 50, iops: 3000 }, tags: {}, endpoint: undefined, keyPair: { name: 'choiros-deploy', publicKeyFile: '/targets/keys/deploy.pub' } });
    expect(read({ ...aws, rootVolume: { sizeGiB: 100 } })?.rootVolume).toEqual({ sizeGiB: 100, iops: 3000 });
    expect(read({ ...aws, rootVolume: { iops: 6000 } })?.rootVolume, 'a rootVolume that sets only iops keeps the 50 GiB default').toEqual({ sizeGiB: 50, iops: 6000 });
  });

  it.each(['0.0.0.0/0', '::/0'])('never opens SSH to the whole internet (%s)', (block) => {
    expect(() => read({ ...aws, sshCidrs: ['203.0.113.7/32', block] })).toThrow(`aws.sshCidrs holds "${block}": SSH is never open to the whole internet`);
  });

  it('needs at least one SSH source, each a CIDR block', () => {
    expect(() => read({ ...aws, sshCidrs: [] })).toThrow('aws.sshCidrs is empty');
    expect(() => read({ ...aws, sshCidrs: ['203.0.113.7'] })).toThrow('aws.sshCidrs holds "203.0.113.7", which is not a CIDR block');
  });

  it('puts the host name inside the hosted zone: the zone itself or a name under it, not a name merely ending in it', () => {
    expect(read({ ...aws, dns: { hostName: 'choiros.example.com.', hostedZone: 'example.com.' } })?.dns).toEqual({ hostName: 'choiros.example.com', hostedZone: 'example.com' });
    expect(read({ ...aws, dns: { hostName: 'example.com', hostedZone: 'example.com' } })?.dns.hostName).toBe('example.com');
    expect(() => read({ ...aws, dns: { hostName: 'badexample.com', hostedZone: 'example.com' } })).toThrow('aws.dns.hostName is "badexample.com", which is not inside the hosted zone "example.com".');
  });

  it.each(['aws:createdBy', 'choiros:target'])('refuses a reserved tag (%s), keeping the others', (reserved) => {
    expect(() => read({ ...aws, tags: { project: 'choiros', [reserved]: 'x' } })).toThrow(`aws.tags.${reserved} is reserved`);
    expect(read({ ...aws, tags: { project: 'choiros' } })?.tags).toEqual({ project: 'choiros' });
  });

  it('reads the OpenSSH public key, and refuses a private key in its place, naming the field and file', async () => {
    const dir = await tempDir('aws-section');
    const pub = path.join(dir, 'deploy.pub');
    await writeFile(pub, 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKey deploy@ci\n');
    expect(readPublicKey({ name: 'k', publicKeyFile: pub }, 'targets/prod.json')).toBe('ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKey deploy@ci');
    const key = path.join(dir, 'deploy');
    await writeFile(key, '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjE=\n-----END OPENSSH PRIVATE KEY-----\n');
    expect(() => readPublicKey({ name: 'k', publicKeyFile: key }, 'targets/prod.json')).toThrow(`targets/prod.json: aws.keyPair.publicKeyFile names ${key}, which is not an OpenSSH public key`);
    expect(() => readPublicKey({ name: 'k', publicKeyFile: path.join(dir, 'absent.pub') }, 'targets/prod.json')).toThrow(/which cannot be read \(ENOENT\)/);
  });

  it('keeps the root volume within gp3 limits as the description reads them: at least 8 GiB, 3000 to 16000 IOPS', () => {
    expect(() => read({ ...aws, rootVolume: { sizeGiB: 7 } })).toThrow(/aws\.rootVolume\.sizeGiB/);
    expect(read({ ...aws, rootVolume: { sizeGiB: 8 } })?.rootVolume.sizeGiB).toBe(8);
    expect(() => read({ ...aws, rootVolume: { iops: 2999 } })).toThrow(/aws\.rootVolume\.iops/);
    expect(() => read({ ...aws, rootVolume: { iops: 16001 } })).toThrow(/aws\.rootVolume\.iops/);
  });

  it('reads the public key file under the home folder only for ~/, and a ~name path relative to the description', () => {
    vi.stubEnv('HOME', '/home/deployer');
    expect(read({ ...aws, keyPair: { name: 'k', publicKeyFile: '~/.ssh/deploy.pub' } })?.keyPair.publicKeyFile).toBe('/home/deployer/.ssh/deploy.pub');
    expect(read({ ...aws, keyPair: { name: 'k', publicKeyFile: '~keys/deploy.pub' } })?.keyPair.publicKeyFile).toBe('/targets/~keys/deploy.pub');
  });

  it('takes the region and AMI id whole: trailing text is refused, naming the field', () => {
    expect(() => read({ ...aws, region: 'us-east-1x' })).toThrow(/aws\.region/);
    expect(() => read({ ...aws, ami: 'ami-0123456789abcdef0x' })).toThrow(/aws\.ami/);
  });

  it('refuses the retired aws.hypervisorPort, pointing at deploy.routing.hypervisorPort', () => {
    expect(() => read({ ...aws, hypervisorPort: 8080 })).toThrow(/aws\.hypervisorPort is no longer read: .*deploy\.routing\.hypervisorPort/);
  });

  it('refuses a public key file with more after the key, such as a private key pasted below it', async () => {
    const pub = path.join(await tempDir('aws-section'), 'deploy.pub');
    await writeFile(pub, 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKey\n-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjE=\n-----END OPENSSH PRIVATE KEY-----\n');
    expect(() => readPublicKey({ name: 'k', publicKeyFile: pub }, 'targets/prod.json')).toThrow('which is not an OpenSSH public key');
  });
});
