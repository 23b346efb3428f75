import { describeChange, type PlannedChange, type Provisioned, type ProvisioningContext } from './change.ts';
import { destroyDns, findRecord, hostedZoneId, planDns } from './dns.ts';
import { destroyInstance, findInstance, planInstance, rootVolumeOf } from './instance.ts';
import { destroyKeyPair, findKeyPair, planKeyPair } from './key-pair.ts';
import { explainAwsError, preflight } from './preflight.ts';
import { destroySecurityGroup, findSecurityGroup, planSecurityGroup } from './security-group.ts';
import { ProvisioningTranscript, type ExistingResource } from './transcript.ts';

/** The command that removes everything a target's provisioning made. */
export const destroyCommand = (targetName: string): string => `GATE_TARGET=${targetName} npm run provision -- destroy`;

/** Every change, in the order they apply (the instance needs the key pair and security group; DNS needs the instance). */
export async function plan(ctx: ProvisioningContext, transcript: ProvisioningTranscript): Promise<PlannedChange[]> {
  const { rootDeviceName } = await transcript.step('preflight', async () => ({ value: await preflight(ctx), detail: `credentials, region ${ctx.aws.region}, ${ctx.aws.instanceType}, ${ctx.aws.ami} checked` }));
  return transcript.step('plan', async () => {
    const keyPair = await planKeyPair(ctx);
    const group = await planSecurityGroup(ctx);
    const instance = await planInstance(ctx, rootDeviceName);
    const dns = await planDns(ctx, instance.action === 'none' || instance.action === 'update' ? (await findInstance(ctx))?.PublicIpAddress : undefined);
    const changes = [keyPair, group, instance, dns];
    const pending = changes.filter((c) => c.action !== 'none');
    return { value: changes, detail: pending.length ? `${pending.length} planned change(s): ${pending.map(describeChange).join(' | ')}` : 'nothing to change: every resource matches the description', unchanged: pending.length === 0 };
  });
}

/** Asked with the plan before anything changes; false stops the run with nothing applied. */
export type ConfirmPlan = (changes: readonly PlannedChange[]) => Promise<boolean>;

/** Plans, shows the plan, then applies it. A failure leaves the transcript listing what exists and how to remove it. */
export async function apply(ctx: ProvisioningContext, transcript: ProvisioningTranscript, targetName: string, confirm?: ConfirmPlan): Promise<Provisioned> {
  const provisioned: Provisioned = {};
  try {
    const changes = await plan(ctx, transcript);
    if (confirm && changes.some((c) => c.action !== 'none') && !(await confirm(changes))) {
      transcript.note('apply', 'not confirmed: nothing applied');
      return provisioned;
    }
    for (const change of changes) {
      await transcript.step(change.action === 'none' ? `keep ${change.resource}` : `${change.action} ${change.resource}`, async () => {
        const detail = await change.apply(provisioned);
        return { value: undefined, detail: change.action === 'none' ? 'no change' : detail, unchanged: change.action === 'none' || detail === 'unchanged' };
      });
    }
  } catch (error) {
    transcript.failure = explainAwsError(error, ctx.descriptionFile).message;
    throw explainAwsError(error, ctx.descriptionFile);
  } finally {
    await recordInventory(ctx, transcript, targetName);
  }
  return provisioned;
}

const removal = (work: () => Promise<string | undefined>) => async () => {
  const removed = await work();
  return { value: undefined, detail: removed ? `removed ${removed}` : 'none found', unchanged: !removed };
};

export async function destroy(ctx: ProvisioningContext, transcript: ProvisioningTranscript, targetName: string): Promise<void> {
  try {
    // DNS first (it points at the instance), the instance before its security group, the key pair last.
    await transcript.step('delete dns record', removal(() => destroyDns(ctx)));
    await transcript.step('terminate instance', removal(() => destroyInstance(ctx)));
    await transcript.step('delete security group', removal(() => destroySecurityGroup(ctx)));
    await transcript.step('delete key pair', removal(() => destroyKeyPair(ctx)));
  } catch (error) {
    transcript.failure = explainAwsError(error, ctx.descriptionFile).message;
    throw explainAwsError(error, ctx.descriptionFile);
  } finally {
    await recordInventory(ctx, transcript, targetName);
  }
}

/** What exists for the target now, found by its tags (and the DNS name), with the commands that remove it. */
export async function inventory(ctx: ProvisioningContext): Promise<ExistingResource[]> {
  const { aws } = ctx;
  const found: ExistingResource[] = [];
  const region = `--region ${aws.region}${aws.endpoint ? ` --endpoint-url ${aws.endpoint}` : ''}`;
  const instance = await findInstance(ctx);
  if (instance?.InstanceId) {
    found.push({ kind: 'instance', id: instance.InstanceId, detail: `${instance.InstanceType} ${instance.ImageId} ${instance.State?.Name ?? ''} public ip ${instance.PublicIpAddress ?? 'none'}`, remove: `aws ec2 terminate-instances ${region} --instance-ids ${instance.InstanceId}` });
    const volume = await rootVolumeOf(ctx, instance);
    if (volume?.VolumeId) found.push({ kind: 'volume', id: volume.VolumeId, detail: `${volume.VolumeType} ${volume.Size} GiB ${volume.Iops} IOPS (deleted with the instance)`, remove: `aws ec2 delete-volume ${region} --volume-id ${volume.VolumeId}` });
  }
  const group = await findSecurityGroup(ctx);
  if (group?.GroupId) found.push({ kind: 'security group', id: group.GroupId, detail: group.GroupName ?? '', remove: `aws ec2 delete-security-group ${region} --group-id ${group.GroupId}` });
  const key = await findKeyPair(ctx);
  if (key?.KeyName) found.push({ kind: 'key pair', id: key.KeyName, detail: key.KeyPairId ?? '', remove: `aws ec2 delete-key-pair ${region} --key-name ${key.KeyName}` });
  const zoneId = await hostedZoneId(ctx).catch(() => undefined);
  const record = zoneId ? await findRecord(ctx, zoneId) : undefined;
  if (record && zoneId) found.push({ kind: 'dns record', id: `${aws.dns.hostName} A`, detail: record.ResourceRecords?.map((r) => r.Value).join(',') ?? '', remove: `aws route53 change-resource-record-sets --hosted-zone-id ${zoneId} --change-batch '{"Changes":[{"Action":"DELETE","ResourceRecordSet":${JSON.stringify(record)}}]}'` });
  return found;
}

async function recordInventory(ctx: ProvisioningContext, transcript: ProvisioningTranscript, targetName: string): Promise<void> {
  try {
    transcript.existing = await inventory(ctx);
  } catch (error) {
    transcript.note('inventory', `could not list what exists (${(error as Error).message}): list resources tagged choiros:target=${ctx.aws.name} in ${ctx.aws.region} by hand.`);
  }
  transcript.removeCommand = destroyCommand(targetName);
}

