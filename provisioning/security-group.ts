import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  CreateTagsCommand,
  DeleteSecurityGroupCommand,
  DescribeSecurityGroupsCommand,
  DescribeVpcsCommand,
  RevokeSecurityGroupIngressCommand,
  type IpPermission,
  type SecurityGroup,
} from '@aws-sdk/client-ec2';
import type { AwsSection } from '../gate-runner/aws-section.ts';
import type { PlannedChange, ProvisioningContext } from './change.ts';
import { resourceTags, tagDrift, tagSpecification, targetFilter } from './tags.ts';

/** One ingress rule as `tcp:PORT:CIDR`, the unit the plan compares. */
export type IngressRule = string;

const world = ['0.0.0.0/0', '::/0'];

/** SSH only from the configured CIDRs, HTTP and HTTPS from anywhere, nothing else (the hypervisor's port never). */
export function wantedIngress(aws: AwsSection): IngressRule[] {
  return [...aws.sshCidrs.map((cidr) => `tcp:22:${cidr}`), ...[80, 443].flatMap((port) => world.map((cidr) => `tcp:${port}:${cidr}`))];
}

export function ingressOf(group: SecurityGroup): IngressRule[] {
  return (group.IpPermissions ?? []).flatMap((p) => {
    const ports = p.FromPort === p.ToPort ? `${p.FromPort}` : `${p.FromPort}-${p.ToPort}`;
    const cidrs = [...(p.IpRanges ?? []).map((r) => r.CidrIp), ...(p.Ipv6Ranges ?? []).map((r) => r.CidrIpv6)];
    return cidrs.map((cidr) => `${p.IpProtocol}:${ports}:${cidr}`);
  });
}

/** Rules that let anyone reach `port` (the gate checks the hypervisor's port is not among them). */
export function publicRulesFor(group: SecurityGroup, port: number): IngressRule[] {
  return (group.IpPermissions ?? []).filter((p) => p.IpProtocol === '-1' || ((p.FromPort ?? 0) <= port && port <= (p.ToPort ?? 65535))).flatMap((p) => ingressOf({ IpPermissions: [p] }).filter((rule) => world.some((w) => rule.endsWith(`:${w}`))));
}

function permission(rule: IngressRule): IpPermission {
  // tcp:443:::/0 — the CIDR may hold colons itself, so only the first two separate fields.
  const [protocol = '', port = ''] = rule.split(':', 2);
  const cidr = rule.slice(protocol.length + port.length + 2);
  const portNumber = Number(port);
  const range = cidr.includes(':') ? { Ipv6Ranges: [{ CidrIpv6: cidr }] } : { IpRanges: [{ CidrIp: cidr }] };
  return { IpProtocol: protocol, FromPort: portNumber, ToPort: portNumber, ...range };
}

export const groupName = (aws: AwsSection): string => `${aws.name}-host`;

export async function findSecurityGroup(ctx: ProvisioningContext): Promise<SecurityGroup | undefined> {
  const found = await ctx.ec2.send(new DescribeSecurityGroupsCommand({ Filters: [targetFilter(ctx.aws)] }));
  return found.SecurityGroups?.[0];
}

async function defaultVpc(ctx: ProvisioningContext): Promise<string> {
  const vpcs = await ctx.ec2.send(new DescribeVpcsCommand({ Filters: [{ Name: 'isDefault', Values: ['true'] }] }));
  const id = vpcs.Vpcs?.[0]?.VpcId;
  if (!id) throw new Error(`region ${ctx.aws.region} has no default VPC: create one (aws ec2 create-default-vpc) before provisioning.`);
  return id;
}

export async function planSecurityGroup(ctx: ProvisioningContext): Promise<PlannedChange> {
  const current = await findSecurityGroup(ctx);
  const wanted = wantedIngress(ctx.aws);
  const name = groupName(ctx.aws);
  const resource = `security group ${name}`;
  if (!current?.GroupId) {
    return {
      resource,
      action: 'create',
      changes: wanted.map((rule) => `allow ${rule}`),
      apply: async (p) => {
        const created = await ctx.ec2.send(new CreateSecurityGroupCommand({ GroupName: name, Description: `ChoirOS host ${ctx.aws.name}: SSH from deployers, HTTP(S) from anyone`, VpcId: await defaultVpc(ctx), TagSpecifications: [tagSpecification('security-group', resourceTags(ctx.aws, 'host'))] }));
        p.securityGroupId = created.GroupId;
        await ctx.ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: created.GroupId, IpPermissions: wanted.map(permission) }));
        return `created ${created.GroupId} with ${wanted.length} ingress rules`;
      },
    };
  }
  const id = current.GroupId;
  const have = ingressOf(current);
  const add = wanted.filter((rule) => !have.includes(rule));
  const remove = have.filter((rule) => !wanted.includes(rule));
  const tagChanges = tagDrift(ctx.aws, current.Tags);
  const hypervisorRules = publicRulesFor(current, ctx.hypervisorPort);
  const revoke = (rule: IngressRule) => (hypervisorRules.includes(rule) ? `revoke ${rule} (opens the hypervisor's port, deploy.routing.hypervisorPort ${ctx.hypervisorPort}, which is never public)` : `revoke ${rule}`);
  const changes = [...add.map((r) => `allow ${r}`), ...remove.map(revoke), ...tagChanges];
  if (changes.length === 0) return { resource: `${resource} (${id})`, action: 'none', changes, apply: async (p) => { p.securityGroupId = id; return 'unchanged'; } };
  return {
    resource: `${resource} (${id})`,
    action: 'update',
    changes,
    apply: async (p) => {
      p.securityGroupId = id;
      // Revoke first: a rule that should not be there (a public hypervisor port) closes before anything opens.
      if (remove.length) await ctx.ec2.send(new RevokeSecurityGroupIngressCommand({ GroupId: id, IpPermissions: remove.map(permission) }));
      if (add.length) await ctx.ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: id, IpPermissions: add.map(permission) }));
      if (tagChanges.length) await ctx.ec2.send(new CreateTagsCommand({ Resources: [id], Tags: resourceTags(ctx.aws, 'host') }));
      return `revoked ${remove.length}, allowed ${add.length}${tagChanges.length ? ', retagged' : ''}`;
    },
  };
}

export async function destroySecurityGroup(ctx: ProvisioningContext): Promise<string | undefined> {
  const current = await findSecurityGroup(ctx);
  if (!current?.GroupId) return undefined;
  await ctx.ec2.send(new DeleteSecurityGroupCommand({ GroupId: current.GroupId }));
  return current.GroupId;
}
