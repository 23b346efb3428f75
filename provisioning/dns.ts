import { ChangeResourceRecordSetsCommand, ListHostedZonesByNameCommand, ListResourceRecordSetsCommand, type ResourceRecordSet } from '@aws-sdk/client-route-53';
import type { PlannedChange, ProvisioningContext } from './change.ts';

const ttl = 60;

export async function hostedZoneId(ctx: ProvisioningContext): Promise<string> {
  const zone = `${ctx.aws.dns.hostedZone}.`;
  const found = await ctx.route53.send(new ListHostedZonesByNameCommand({ DNSName: zone, MaxItems: 1 }));
  const id = found.HostedZones?.find((z) => z.Name === zone)?.Id;
  if (!id) throw new Error(`${ctx.descriptionFile}: aws.dns.hostedZone is "${ctx.aws.dns.hostedZone}", but the account has no Route 53 hosted zone of that name: create it (or fix the name) first.`);
  return id.replace(/^\/hostedzone\//, '');
}

export async function findRecord(ctx: ProvisioningContext, zoneId: string): Promise<ResourceRecordSet | undefined> {
  const name = `${ctx.aws.dns.hostName}.`;
  const found = await ctx.route53.send(new ListResourceRecordSetsCommand({ HostedZoneId: zoneId, StartRecordName: name, StartRecordType: 'A', MaxItems: 1 }));
  return found.ResourceRecordSets?.find((r) => r.Name === name && r.Type === 'A');
}

/** The host name's A record, pointing at the instance's public address (known only once it runs). */
export async function planDns(ctx: ProvisioningContext, currentIp: string | undefined): Promise<PlannedChange> {
  const zoneId = await hostedZoneId(ctx);
  const record = await findRecord(ctx, zoneId);
  const have = record?.ResourceRecords?.map((r) => r.Value).join(',');
  const resource = `dns record ${ctx.aws.dns.hostName} A`;
  const upsert = async (ip: string) => {
    await ctx.route53.send(new ChangeResourceRecordSetsCommand({ HostedZoneId: zoneId, ChangeBatch: { Comment: `choiros:target ${ctx.aws.name}`, Changes: [{ Action: 'UPSERT', ResourceRecordSet: { Name: ctx.aws.dns.hostName, Type: 'A', TTL: ttl, ResourceRecords: [{ Value: ip }] } }] } }));
  };
  const applyWithIp = async (p: { publicIp?: string }) => {
    if (!p.publicIp) throw new Error(`the instance has no public address yet, so ${ctx.aws.dns.hostName} cannot point at it: check the subnet assigns public IPs.`);
    if (p.publicIp === have) return 'unchanged';
    await upsert(p.publicIp);
    return `${ctx.aws.dns.hostName} -> ${p.publicIp}`;
  };
  if (!record) return { resource, action: 'create', changes: [`-> ${currentIp ?? "the instance's public address"}`], apply: applyWithIp };
  if (currentIp !== undefined && have === currentIp) return { resource, action: 'none', changes: [], apply: applyWithIp };
  return { resource, action: 'update', changes: [`${have} -> ${currentIp ?? "the new instance's public address"}`], apply: applyWithIp };
}

export async function destroyDns(ctx: ProvisioningContext): Promise<string | undefined> {
  const zoneId = await hostedZoneId(ctx).catch(() => undefined);
  if (!zoneId) return undefined;
  const record = await findRecord(ctx, zoneId);
  if (!record) return undefined;
  await ctx.route53.send(new ChangeResourceRecordSetsCommand({ HostedZoneId: zoneId, ChangeBatch: { Changes: [{ Action: 'DELETE', ResourceRecordSet: record }] } }));
  return `${ctx.aws.dns.hostName} A`;
}
