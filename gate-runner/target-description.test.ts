import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DescriptionFields, TargetDescriptionError } from './description-fields.ts';
import { resolveSecret } from './secret-ref.ts';
import { loadTargetDescription, parseTargetDescription, targetDescriptionFromEnv, targetsDir } from './target-description.ts';

describe('a target description', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'choiros-targets-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const write = (name: string, body: unknown) => writeFile(path.join(dir, `${name}.json`), typeof body === 'string' ? body : JSON.stringify(body));

  it('is the built-in local target when GATE_TARGET is unset, with the default thresholds', () => {
    const local = targetDescriptionFromEnv({}, dir);
    expect(local).toMatchObject({ name: 'local', file: undefined, hypervisor: undefined, github: undefined, thresholds: { diskFreePercent: 20, memoryFreePercent: 25 } });
  });

  it('takes a workflow file ending in .yml or .yaml, and nothing else', async () => {
    await write('yaml', { github: { repository: 'o/r', workflow: 'nix.yaml' } });
    expect(loadTargetDescription('yaml', dir).github?.workflow).toBe('nix.yaml');
    await write('script', { github: { repository: 'o/r', workflow: 'nix.sh' } });
    expect(() => loadTargetDescription('script', dir)).toThrow(TargetDescriptionError);
  });

  it('reads a named file with every section, secrets as references only', async () => {
    await write('prod', { hypervisor: { url: 'https://choiros.example.com/', adminToken: { file: 'admin-token' } }, github: { repository: 'o/r' }, thresholds: { diskFreePercent: 30 } });
    const prod = targetDescriptionFromEnv({ GATE_TARGET: 'prod' }, dir);
    expect(prod.hypervisor?.url).toBe('https://choiros.example.com');
    expect(prod.hypervisor?.adminToken).toMatchObject({ file: path.join(dir, 'admin-token') });
    expect(prod.github).toMatchObject({ repository: 'o/r', token: { env: 'GITHUB_TOKEN' }, apiUrl: 'https://api.github.com', workflow: 'flakes.yml', branch: 'main' });
    expect(prod.thresholds).toEqual({ diskFreePercent: 30, memoryFreePercent: 25, requestLatencyP99Ms: 10000 });
  });

  it('reads targets/local.json when it exists, and refuses one it cannot read rather than falling back to the built-in local target', async () => {
    await write('local', { thresholds: { diskFreePercent: 35 } });
    expect(targetDescriptionFromEnv({}, dir)).toMatchObject({ name: 'local', file: path.relative(process.cwd(), path.join(dir, 'local.json')), thresholds: { diskFreePercent: 35 } });
    await rm(path.join(dir, 'local.json'));
    await mkdir(path.join(dir, 'local.json'));
    expect(() => targetDescriptionFromEnv({}, dir)).toThrow(/local\.json: cannot be read \(EISDIR\): GATE_TARGET=local names it/);
  });

  it('keeps the shipped example valid', async () => {
    const { readFile } = await import('node:fs/promises');
    const example = JSON.parse(await readFile(path.join(targetsDir, 'production.example.json'), 'utf8')) as Record<string, unknown>;
    expect(parseTargetDescription('example', new DescriptionFields('targets/production.example.json', example)).github?.repository).toBe('choiros/gates');
  });

  it.each([
    ['a missing file', undefined, /prod\.json: cannot be read \(ENOENT\): GATE_TARGET=prod names it/],
    ['broken JSON', '{"hypervisor": ', /prod\.json: is not valid JSON/],
    ['an unknown field', { hypervisr: {} }, /prod\.json: hypervisr is not a known field: use one of/],
    ['a secret written inline', { hypervisor: { url: 'https://h.example', adminToken: 's3cret' } }, /hypervisor\.adminToken is a string: a description never holds a secret/],
    ['a URL that is not one', { hypervisor: { url: 'h.example' } }, /hypervisor\.url is "h\.example", which is not a URL/],
    ['a repository without an owner', { github: { repository: 'gates' } }, /github\.repository is "gates": it must be a GitHub repository as owner\/name/],
    ['a threshold out of range', { thresholds: { memoryFreePercent: 120 } }, /thresholds\.memoryFreePercent is 120: use a whole number from 1 to 99/],
    ['SSH open to the whole internet', { aws: { ...{ region: 'us-east-1', name: 'h', ami: 'ami-0123456789abcdef0', keyPair: { name: 'k', publicKeyFile: 'k.pub' }, dns: { hostName: 'h.example.com', hostedZone: 'example.com' } }, sshCidrs: ['0.0.0.0/0'] } }, /aws\.sshCidrs holds "0\.0\.0\.0\/0": SSH is never open to the whole internet/],
    ['a host name outside its hosted zone', { aws: { region: 'us-east-1', name: 'h', ami: 'ami-0123456789abcdef0', sshCidrs: ['203.0.113.7/32'], keyPair: { name: 'k', publicKeyFile: 'k.pub' }, dns: { hostName: 'h.example.org', hostedZone: 'example.com' } } }, /aws\.dns\.hostName is "h\.example\.org", which is not inside the hosted zone "example\.com"/],
    ['a gp3 volume below 3000 IOPS', { aws: { ...{ region: 'us-east-1', name: 'h', ami: 'ami-0123456789abcdef0', keyPair: { name: 'k', publicKeyFile: 'k.pub' }, dns: { hostName: 'h.example.com', hostedZone: 'example.com' } }, sshCidrs: ['203.0.113.7/32'], rootVolume: { iops: 100 } } }, /aws\.rootVolume\.iops is 100: use a whole number from 3000 to 16000/],
    ['the hypervisor port in the aws section, where it used to be', { aws: { region: 'us-east-1', name: 'h', ami: 'ami-0123456789abcdef0', sshCidrs: ['203.0.113.7/32'], hypervisorPort: 8080, keyPair: { name: 'k', publicKeyFile: 'k.pub' }, dns: { hostName: 'h.example.com', hostedZone: 'example.com' } } }, /aws\.hypervisorPort is no longer read: the hypervisor's port is set once, as deploy\.routing\.hypervisorPort .* Move the value there and delete aws\.hypervisorPort\./],
    ['a hypervisor port the security group opens', { deploy: { ssh: { host: 'h.example.com', identityFile: 'id', hostKey: 'ssh-ed25519 AAAAC3Nz' }, healthUrl: 'https://h.example.com/health', routing: { hostName: 'h.example.com', acmeEmail: 'o@example.com', hypervisorPort: 22 } } }, /deploy\.routing\.hypervisorPort is 22, which the security group opens \(22, 80, 443\): the hypervisor's port is never public/],
    ['a hypervisor port Caddy serves on', { deploy: { ssh: { host: 'h.example.com', identityFile: 'id', hostKey: 'ssh-ed25519 AAAAC3Nz' }, healthUrl: 'https://h.example.com/health', routing: { hostName: 'h.example.com', acmeEmail: 'o@example.com', httpsPort: 8443, hypervisorPort: 8443 } } }, /deploy\.routing\.hypervisorPort is 8443, the port Caddy serves HTTPS on: give the hypervisor a port of its own/],
    ['a deploy without a pinned host key', { deploy: { ssh: { host: 'h.example.com', identityFile: 'id' }, healthUrl: 'https://h.example.com/health', routing: { hostName: 'h.example.com', acmeEmail: 'o@example.com' } } }, /deploy\.ssh\.hostKey or knownHostsFile: set exactly one, so the host key is pinned/],
  ])('refuses %s, naming the file and the field', async (_what, body, message) => {
    if (body !== undefined) await write('prod', body);
    expect(() => loadTargetDescription('prod', dir)).toThrow(TargetDescriptionError);
    expect(() => loadTargetDescription('prod', dir)).toThrow(message);
  });

  it('holds each threshold to its documented range, both ends included', async () => {
    await write('prod', { thresholds: { diskFreePercent: 1, memoryFreePercent: 99, requestLatencyP99Ms: 600_000 } });
    expect(loadTargetDescription('prod', dir).thresholds).toEqual({ diskFreePercent: 1, memoryFreePercent: 99, requestLatencyP99Ms: 600_000 });
    await write('prod', { thresholds: { diskFreePercent: 99, memoryFreePercent: 1, requestLatencyP99Ms: 1 } });
    expect(loadTargetDescription('prod', dir).thresholds).toEqual({ diskFreePercent: 99, memoryFreePercent: 1, requestLatencyP99Ms: 1 });
    for (const [field, value, range] of [['diskFreePercent', 0, '1 to 99'], ['diskFreePercent', 100, '1 to 99'], ['memoryFreePercent', 0, '1 to 99'], ['requestLatencyP99Ms', 0, '1 to 600000'], ['requestLatencyP99Ms', 600_001, '1 to 600000']] as const) {
      await write('prod', { thresholds: { [field]: value } });
      expect(() => loadTargetDescription('prod', dir), `${field} ${value}`).toThrow(`thresholds.${field} is ${value}: use a whole number from ${range}`);
    }
  });

  it('reads the cloudwatch section with its documented default namespace and no endpoint, and refuses a zone for a region', async () => {
    await write('prod', { cloudwatch: { region: 'eu-west-1', host: 'choiros-1' } });
    expect(loadTargetDescription('prod', dir).cloudwatch).toEqual({ region: 'eu-west-1', namespace: 'ChoirOS/Hypervisor', host: 'choiros-1', endpoint: undefined });
    await write('prod', { cloudwatch: { region: 'eu-west-1a', host: 'choiros-1' } });
    expect(() => loadTargetDescription('prod', dir)).toThrow(/cloudwatch\.region is "eu-west-1a"/);
  });

  it('reads the description from GATE_TARGETS_DIR when it names another folder', async () => {
    await write('staging', { summary: 'the staging host' });
    expect(targetDescriptionFromEnv({ GATE_TARGET: 'staging', GATE_TARGETS_DIR: dir })).toMatchObject({ name: 'staging', summary: 'the staging host' });
  });

  it('takes a blank GATE_TARGET as unset (the local target) and GATE_TARGET and GATE_TARGETS_DIR with spaces around them as written without', async () => {
    expect(targetDescriptionFromEnv({ GATE_TARGET: '  ' }, dir)).toMatchObject({ name: 'local', file: undefined });
    await write('staging', { summary: 'the staging host' });
    expect(targetDescriptionFromEnv({ GATE_TARGET: ' staging\n', GATE_TARGETS_DIR: ` ${dir}\n` })).toMatchObject({ name: 'staging', summary: 'the staging host' });
  });

  it('refuses a target name that could escape targets/', () => {
    expect(() => loadTargetDescription('../etc/passwd', dir)).toThrow(/a target name is lowercase letters, digits and dashes/);
    for (const name of ['prod/../../etc/passwd', 'prod.json', 'Prod', 'a'.repeat(64)]) {
      expect(() => loadTargetDescription(name, dir), name).toThrow(/a target name is lowercase letters, digits and dashes/);
    }
  });

  it('reads the admin token from GATE_ADMIN_TOKEN when the hypervisor section names none (targets/README.md)', async () => {
    await write('prod', { hypervisor: { url: 'https://h.example' } });
    const ref = loadTargetDescription('prod', dir).hypervisor?.adminToken;
    if (!ref) throw new Error('no admin token reference');
    expect(ref).toMatchObject({ env: 'GATE_ADMIN_TOKEN' });
    expect(resolveSecret(ref, { GATE_ADMIN_TOKEN: 'exported-as-documented' })).toBe('exported-as-documented');
  });

  it('reads a secret only when asked, and says which variable or file is missing', async () => {
    await write('prod', { hypervisor: { url: 'https://h.example', adminToken: { env: 'PROD_ADMIN' } } });
    const ref = loadTargetDescription('prod', dir).hypervisor?.adminToken;
    if (!ref) throw new Error('no admin token reference');
    expect(() => resolveSecret(ref, {})).toThrow(/hypervisor\.adminToken comes from the environment variable PROD_ADMIN, which is not set/);
    expect(resolveSecret(ref, { PROD_ADMIN: ' t0ken ' })).toBe('t0ken');
  });
});
