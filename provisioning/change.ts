import type { EC2Client } from '@aws-sdk/client-ec2';
import type { Route53Client } from '@aws-sdk/client-route-53';
import type { AwsSection } from '../gate-runner/aws-section.ts';

/** What one provisioning run works with: the description's `aws` section and clients for its account. */
export interface ProvisioningContext {
  aws: AwsSection;
  /** The hypervisor's port, read from deploy.routing.hypervisorPort (its one place): never open in the security group. */
  hypervisorPort: number;
  /** targets/<name>.json, for messages. */
  descriptionFile: string;
  ec2: EC2Client;
  route53: Route53Client;
  publicKey: string;
}

/** Ids that later steps need from earlier ones (the instance needs the security group's id). */
export interface Provisioned {
  keyName?: string;
  securityGroupId?: string;
  instanceId?: string;
  publicIp?: string;
}

export type ChangeAction = 'create' | 'update' | 'replace' | 'none';

/** One resource's planned change, shown before it is applied. */
export interface PlannedChange {
  resource: string;
  action: ChangeAction;
  /** What differs, field by field ("instance type: t3a.medium -> t3a.large"). */
  changes: readonly string[];
  /** Brings the resource to the description; returns what it did. Also fills `provisioned`. */
  apply(provisioned: Provisioned): Promise<string>;
}

export function describeChange(change: PlannedChange): string {
  if (change.action === 'none') return `${change.resource}: no change`;
  return `${change.resource}: ${change.action}${change.changes.length ? ` (${change.changes.join('; ')})` : ''}`;
}
