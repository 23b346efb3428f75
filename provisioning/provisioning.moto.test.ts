import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AuthorizeSecurityGroupIngressCommand, DescribeInstancesCommand, DescribeKeyPairsCommand, DescribeSecurityGroupsCommand, DescribeVolumesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { DeleteHostedZoneCommand, ListHostedZonesByNameCommand, ListResourceRecordSetsCommand, Route53Client } from '@aws-sdk/client-route-53';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createAwsTestTarget, testHostedZone, type AwsTestTarget } from '../fixtures/aws-target.ts';
import { motoCredentialsEnv, startMotoServer, type MotoServer } from '../fixtures/moto-server.ts';
import { ProvisioningFailedError, runProvisioning, type ProvisioningCommand } from './cli.ts';
import type { ConfirmPlan } from './provision.ts';
import { ingressOf } from './security-group.ts';

// Tested against moto, the AWS API emulator, standing in for AWS EC2 and Route 53: the SDK client code is real.
describe('provisioning against moto (stand-in for AWS EC2 and Route 53)', () => {
  let moto: MotoServer;
  let target: AwsTestTarget;
  let transcripts: string;
  let ec2: EC2Client;
  let route53: Route53Client;
  const printed: string[] = [];

  beforeAll(async () => {
    moto = await startMotoServer();
    Object.assign(process.env, motoCredentialsEnv);
    const clientOptions = { region: 'us-east-1', endpoint: moto.endpoint, credentials: { accessKeyId: 'moto', secretAccessKey: 'moto' } };
    ec2 = new EC2Client(clientOptions);
    route53 = new Route53Client(clientOptions);
  });
  afterAll(async () => {
    ec2.destroy();
    route53.destroy();
    await moto.close();
  });
  beforeEach(async () => {
    await moto.reset();
    target = await createAwsTestTarget(moto.endpoint);
    transcripts = await mkdtemp(path.join(tmpdir(), 'choiros-h14-transcripts-'));
    printed.length = 0;
  });
  afterEach(async () => {
    await target.close();
    await rm(transcripts, { recursive: true, force: true });
  });

  const run = (command: ProvisioningCommand, confirm?: ConfirmPlan) =>
    runProvisioning(command, { env: { GATE_TARGET: target.name, PROVISIONING_TRANSCRIPT_DIR: transcripts }, targetsDirectory: target.dir, print: (line) => printed.push(line), confirm });
  const instances = async () => (await ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: 'tag:choiros:target', Values: [target.name] }, { Name: 'instance-state-name', Values: ['pending', 'running', 'stopped'] }] }))).Reservations?.flatMap((r) => r.Instances ?? []) ?? [];
  const group = async () => (await ec2.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'tag:choiros:target', Values: [target.name] }] }))).SecurityGroups?.[0];
  const zoneId = async () => (await route53.send(new ListHostedZonesByNameCommand({ DNSName: `${testHostedZone}.` }))).HostedZones?.[0]?.Id ?? '';
  const aRecord = async () => (await route53.send(new ListResourceRecordSetsCommand({ HostedZoneId: await zoneId() }))).ResourceRecordSets?.find((r) => r.Type === 'A');

  it('apply creates the key pair, security group, t3a.large on gp3 and the DNS record from the description', async () => {
    const { transcript } = await run('apply');
    const [instance] = await instances();
    expect(instance?.InstanceType).toBe('t3a.large');
    expect(instance?.ImageId).toBe(target.aws.ami);
    expect(instance?.KeyName).toBe(`${target.name}-deploy`);
    expect(instance?.Tags).toEqual(expect.arrayContaining([{ Key: 'choiros:target', Value: target.name }, { Key: 'project', Value: 'choiros' }]));
    const volumeId = instance?.BlockDeviceMappings?.[0]?.Ebs?.VolumeId;
    const [volume] = (await ec2.send(new DescribeVolumesCommand({ VolumeIds: [volumeId ?? ''] }))).Volumes ?? [];
    expect(volume).toMatchObject({ VolumeType: 'gp3', Size: 50, Iops: 3000 });
    const sg = await group();
    expect(instance?.SecurityGroups?.map((g) => g.GroupId)).toEqual([sg?.GroupId]);
    expect(ingressOf(sg ?? {}).sort()).toEqual(['tcp:22:2001:db8:4::/48', 'tcp:22:203.0.113.7/32', 'tcp:443:0.0.0.0/0', 'tcp:443:::/0', 'tcp:80:0.0.0.0/0', 'tcp:80:::/0']);
    expect((await ec2.send(new DescribeKeyPairsCommand({ KeyNames: [`${target.name}-deploy`] }))).KeyPairs).toHaveLength(1);
    expect((await aRecord())?.ResourceRecords?.[0]?.Value).toBe(instance?.PublicIpAddress);
    expect(transcript.existing.map((r) => r.kind).sort()).toEqual(['dns record', 'instance', 'key pair', 'security group', 'volume']);
    expect(transcript.text()).toContain(`remove all of it with: GATE_TARGET=${target.name} npm run provision -- destroy`);
  });

  it('a second apply finds the tagged resources, changes nothing and says so', async () => {
    await run('apply');
    const [first] = await instances();
    printed.length = 0;
    const { transcript } = await run('apply');
    expect(printed.join('\n')).toContain('nothing to change: every resource matches the description');
    const applied = transcript.entries.filter((e) => e.step !== 'preflight');
    expect(applied.every((e) => e.outcome === 'unchanged'), printed.join('\n')).toBe(true);
    expect((await instances()).map((i) => i.InstanceId)).toEqual([first?.InstanceId]);
  });

  it('a changed field is reported as a planned change before it is applied', async () => {
    await run('apply');
    await target.rewrite((aws) => {
      aws.instanceType = 't3a.xlarge';
      aws.rootVolume = { sizeGiB: 60, iops: 4000 };
    });
    const { transcript: planned } = await run('plan');
    const planLine = planned.entries.find((e) => e.step === 'plan')?.detail ?? '';
    expect(planLine).toContain('instance type: t3a.large -> t3a.xlarge');
    expect(planLine).toMatch(/gp3 50 GiB 3000 IOPS -> gp3 60 GiB 4000 IOPS/);
    expect((await instances())[0]?.InstanceType).toBe('t3a.large');

    const { transcript: applied } = await run('apply');
    const steps = applied.entries.map((e) => e.step);
    expect(steps.indexOf('plan')).toBeLessThan(steps.findIndex((s) => s.startsWith('update instance')));
    expect((await instances())[0]?.InstanceType).toBe('t3a.xlarge');
  });

  it('a public rule on the hypervisor port (deploy.routing.hypervisorPort) is planned for revocation, saying so, and revoked', async () => {
    const description = JSON.parse(await readFile(target.file, 'utf8')) as Record<string, unknown>;
    const deploy = { ssh: { host: 'moto-host.gates.test', identityFile: 'deploy-key', hostKey: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGates' }, healthUrl: 'https://moto-host.gates.test/health', routing: { hostName: 'moto-host.gates.test', tls: 'internal', hypervisorPort: 9191 } };
    await writeFile(target.file, JSON.stringify({ ...description, deploy }));
    await run('apply');
    const sg = await group();
    const open = (port: number) => ({ IpProtocol: 'tcp', FromPort: port, ToPort: port, IpRanges: [{ CidrIp: '0.0.0.0/0' }] });
    await ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: sg?.GroupId, IpPermissions: [open(9191), open(8080)] }));
    const { transcript } = await run('plan');
    const planned = transcript.entries.find((e) => e.step === 'plan')?.detail ?? '';
    expect(planned).toContain("revoke tcp:9191:0.0.0.0/0 (opens the hypervisor's port, deploy.routing.hypervisorPort 9191, which is never public)");
    // Any rule the description does not ask for goes too; only the hypervisor's is called out.
    expect(planned).toMatch(/revoke tcp:8080:0\.0\.0\.0\/0[;)]/);
    await run('apply');
    expect(ingressOf((await group()) ?? {})).not.toContain('tcp:9191:0.0.0.0/0');
    expect(ingressOf((await group()) ?? {})).not.toContain('tcp:8080:0.0.0.0/0');
  });

  it('a partial failure leaves a transcript listing what exists and the command that removes it', async () => {
    // The hosted zone disappears between plan and apply: DNS fails after the instance exists.
    const failure = await run('apply', async () => {
      await route53.send(new DeleteHostedZoneCommand({ Id: await zoneId() }));
      return true;
    }).then(() => undefined, (error: unknown) => error);
    expect(failure).toBeInstanceOf(ProvisioningFailedError);
    const { transcript, transcriptFile } = failure as ProvisioningFailedError;
    expect(transcript.failure).toBeTruthy();
    expect(transcript.existing.map((r) => r.kind).sort()).toEqual(['instance', 'key pair', 'security group', 'volume']);
    const text = await readFile(transcriptFile, 'utf8');
    expect(text).toContain(`remove all of it with: GATE_TARGET=${target.name} npm run provision -- destroy`);
    expect(text).toMatch(/by hand: aws ec2 terminate-instances --region us-east-1 .* --instance-ids i-/);

    const { transcript: destroyed } = await run('destroy');
    expect(destroyed.existing).toEqual([]);
    expect(await instances()).toEqual([]);
  });

  it('destroy removes everything tagged for the target; a second destroy finds nothing', async () => {
    await run('apply');
    await run('destroy');
    expect(await instances()).toEqual([]);
    expect(await group()).toBeUndefined();
    expect(await aRecord()).toBeUndefined();
    const { transcript } = await run('destroy');
    expect(transcript.entries.filter((e) => e.step !== 'inventory').every((e) => e.outcome === 'unchanged')).toBe(true);
  });

  describe('bad input: a clear message naming what to fix, and nothing created', () => {
    const refused = async (message: RegExp) => {
      const failure = await run('apply').then(() => undefined, (error: unknown) => error as ProvisioningFailedError);
      expect(failure?.message).toMatch(message);
      expect(failure?.transcript.existing).toEqual([]);
      expect(await instances()).toEqual([]);
    };

    it('missing AWS credentials', async () => {
      const saved = { ...process.env };
      for (const key of Object.keys(process.env)) if (key.startsWith('AWS_')) delete process.env[key];
      Object.assign(process.env, { AWS_SHARED_CREDENTIALS_FILE: path.join(target.dir, 'none'), AWS_CONFIG_FILE: path.join(target.dir, 'none'), AWS_EC2_METADATA_DISABLED: 'true' });
      try {
        await refused(/no AWS credentials: the SDK's default chain found none .*Set AWS_PROFILE .* or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY/);
      } finally {
        for (const key of Object.keys(process.env)) if (key.startsWith('AWS_')) delete process.env[key];
        Object.assign(process.env, saved);
      }
    });

    it('an unknown region', async () => {
      await target.rewrite((aws) => (aws.region = 'us-nowhere-1'));
      await refused(/aws\.region is "us-nowhere-1", which is not an AWS region: use one of .*us-east-1/);
    });

    it('an unknown instance type', async () => {
      await target.rewrite((aws) => (aws.instanceType = 't3a.enormous'));
      await refused(/aws\.instanceType is "t3a\.enormous", which us-east-1 does not offer/);
    });

    it('an AMI that does not exist', async () => {
      await target.rewrite((aws) => (aws.ami = 'ami-0123456789abcdef0'));
      await refused(/aws\.ami is "ami-0123456789abcdef0", which does not exist in us-east-1/);
    });
  });
});
