import { createHash } from 'node:crypto';
import {
  CreateTagsCommand,
  DescribeInstancesCommand,
  DescribeVolumesCommand,
  ModifyInstanceAttributeCommand,
  ModifyVolumeCommand,
  RunInstancesCommand,
  StartInstancesCommand,
  StopInstancesCommand,
  TerminateInstancesCommand,
  waitUntilInstanceRunning,
  waitUntilInstanceStopped,
  waitUntilInstanceTerminated,
  type Instance,
  type Volume,
} from '@aws-sdk/client-ec2';
import type { PlannedChange, Provisioned, ProvisioningContext } from './change.ts';
import { resourceTags, tagDrift, tagSpecification, targetFilter } from './tags.ts';

const live = ['pending', 'running', 'stopping', 'stopped'];
/** Waiters poll every 2 s at first (the SDK's default starts at 15 s) and give up after 10 minutes. */
const waitFor = (ctx: ProvisioningContext) => ({ client: ctx.ec2, minDelay: 2, maxDelay: 15, maxWaitTime: 600 });

export async function findInstance(ctx: ProvisioningContext): Promise<Instance | undefined> {
  const found = await ctx.ec2.send(new DescribeInstancesCommand({ Filters: [targetFilter(ctx.aws), { Name: 'instance-state-name', Values: live }] }));
  return found.Reservations?.flatMap((r) => r.Instances ?? [])[0];
}

export async function rootVolumeOf(ctx: ProvisioningContext, instance: Instance): Promise<Volume | undefined> {
  const id = instance.BlockDeviceMappings?.find((m) => m.DeviceName === instance.RootDeviceName)?.Ebs?.VolumeId ?? instance.BlockDeviceMappings?.[0]?.Ebs?.VolumeId;
  if (!id) return undefined;
  return (await ctx.ec2.send(new DescribeVolumesCommand({ VolumeIds: [id] }))).Volumes?.[0];
}

async function describe(ctx: ProvisioningContext, id: string): Promise<Instance | undefined> {
  return (await ctx.ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }))).Reservations?.[0]?.Instances?.[0];
}

async function launch(ctx: ProvisioningContext, p: Provisioned, rootDeviceName: string): Promise<Instance> {
  const { aws } = ctx;
  if (!p.securityGroupId || !p.keyName) throw new Error('the instance needs the security group and key pair first (provisioning order).');
  // Same description, same token: a retried apply after a lost response does not launch a second host.
  const token = createHash('sha256').update(JSON.stringify([aws.name, aws.ami, aws.instanceType, aws.rootVolume, p.securityGroupId])).digest('hex').slice(0, 48);
  const run = await ctx.ec2.send(
    new RunInstancesCommand({
      ImageId: aws.ami,
      InstanceType: aws.instanceType as never,
      MinCount: 1,
      MaxCount: 1,
      KeyName: p.keyName,
      SecurityGroupIds: [p.securityGroupId],
      ClientToken: token,
      BlockDeviceMappings: [{ DeviceName: rootDeviceName, Ebs: { VolumeSize: aws.rootVolume.sizeGiB, VolumeType: 'gp3', Iops: aws.rootVolume.iops, DeleteOnTermination: true, Encrypted: true } }],
      TagSpecifications: [tagSpecification('instance', resourceTags(aws, 'host')), tagSpecification('volume', resourceTags(aws, 'root'))],
      // IMDSv2 only: with tokens optional, IMDSv1 answers a plain GET, and any SSRF through the host reads the instance role's credentials.
      // The hop limit is set, not left to EC2: an AMI registered with ImdsSupport v2.0 makes it 2. A limit of 1 keeps a token from
      // anything a hop behind the host (a bridged container), but not from the sandboxes: with slirp4netns a sandbox's connection
      // leaves from the host itself, so it reaches IMDS like the host does; keeping them out takes a block on the host. The launch line reads both back.
      MetadataOptions: { HttpTokens: 'required', HttpPutResponseHopLimit: 1 },
    }),
  );
  const id = run.Instances?.[0]?.InstanceId;
  if (!id) throw new Error('RunInstances answered without an instance id.');
  p.instanceId = id;
  await waitUntilInstanceRunning(waitFor(ctx), { InstanceIds: [id] });
  const running = await describe(ctx, id);
  p.publicIp = running?.PublicIpAddress;
  return running ?? { InstanceId: id };
}

export async function planInstance(ctx: ProvisioningContext, rootDeviceName: string): Promise<PlannedChange> {
  const { aws } = ctx;
  const current = await findInstance(ctx);
  const resource = `instance ${aws.name}-host`;
  if (!current?.InstanceId) {
    return {
      resource,
      action: 'create',
      changes: [`${aws.instanceType} from ${aws.ami} in ${aws.region}`, `gp3 root ${aws.rootVolume.sizeGiB} GiB, ${aws.rootVolume.iops} IOPS`],
      apply: async (p) => {
        const instance = await launch(ctx, p, rootDeviceName);
        return `launched ${instance.InstanceId} (${instance.State?.Name ?? 'running'}, public ip ${p.publicIp ?? 'none'})`;
      },
    };
  }
  const id = current.InstanceId;
  const named = `${resource} (${id})`;
  const keep = (p: Provisioned) => {
    p.instanceId = id;
    p.publicIp = current.PublicIpAddress;
  };
  if (current.ImageId !== aws.ami) {
    return {
      resource: named,
      action: 'replace',
      changes: [`ami: ${current.ImageId} -> ${aws.ami} (a new instance; the old one is terminated once the new one runs)`],
      apply: async (p) => {
        const instance = await launch(ctx, p, rootDeviceName);
        await ctx.ec2.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
        await waitUntilInstanceTerminated(waitFor(ctx), { InstanceIds: [id] });
        return `launched ${instance.InstanceId}, terminated ${id}`;
      },
    };
  }
  const volume = await rootVolumeOf(ctx, current);
  const changes: string[] = [];
  const typeChanged = current.InstanceType !== aws.instanceType;
  if (typeChanged) changes.push(`instance type: ${current.InstanceType} -> ${aws.instanceType} (stop, modify, start)`);
  const volumeChanged = volume !== undefined && (volume.Size !== aws.rootVolume.sizeGiB || volume.Iops !== aws.rootVolume.iops || volume.VolumeType !== 'gp3');
  if (volume && volume.Size !== undefined && volume.Size > aws.rootVolume.sizeGiB) {
    throw new Error(`${ctx.descriptionFile}: aws.rootVolume.sizeGiB is ${aws.rootVolume.sizeGiB}, smaller than the running root volume ${volume.VolumeId} (${volume.Size} GiB): EBS volumes only grow. Set it to ${volume.Size} or more.`);
  }
  if (volumeChanged) changes.push(`root volume ${volume.VolumeId}: ${volume.VolumeType} ${volume.Size} GiB ${volume.Iops} IOPS -> gp3 ${aws.rootVolume.sizeGiB} GiB ${aws.rootVolume.iops} IOPS`);
  const tagChanges = tagDrift(aws, current.Tags);
  changes.push(...tagChanges);
  if (changes.length === 0) return { resource: named, action: 'none', changes, apply: async (p) => { keep(p); return 'unchanged'; } };
  return {
    resource: named,
    action: 'update',
    changes,
    apply: async (p) => {
      keep(p);
      if (volumeChanged && volume?.VolumeId) await ctx.ec2.send(new ModifyVolumeCommand({ VolumeId: volume.VolumeId, Size: aws.rootVolume.sizeGiB, Iops: aws.rootVolume.iops, VolumeType: 'gp3' }));
      if (tagChanges.length) await ctx.ec2.send(new CreateTagsCommand({ Resources: [id], Tags: resourceTags(aws, 'host') }));
      if (typeChanged) {
        await ctx.ec2.send(new StopInstancesCommand({ InstanceIds: [id] }));
        await waitUntilInstanceStopped(waitFor(ctx), { InstanceIds: [id] });
        await ctx.ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: id, InstanceType: { Value: aws.instanceType } }));
        await ctx.ec2.send(new StartInstancesCommand({ InstanceIds: [id] }));
        await waitUntilInstanceRunning(waitFor(ctx), { InstanceIds: [id] });
        p.publicIp = (await describe(ctx, id))?.PublicIpAddress;
      }
      return changes.join('; ');
    },
  };
}

/** Terminates the target's instance and waits until it is gone (its security group can only go after). */
export async function destroyInstance(ctx: ProvisioningContext): Promise<string | undefined> {
  const current = await findInstance(ctx);
  if (!current?.InstanceId) return undefined;
  await ctx.ec2.send(new TerminateInstancesCommand({ InstanceIds: [current.InstanceId] }));
  await waitUntilInstanceTerminated(waitFor(ctx), { InstanceIds: [current.InstanceId] });
  return current.InstanceId;
}
