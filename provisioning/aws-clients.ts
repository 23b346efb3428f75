import { EC2Client } from '@aws-sdk/client-ec2';
import { Route53Client } from '@aws-sdk/client-route-53';
import type { AwsSection } from '../gate-runner/aws-section.ts';

/**
 * Clients for the description's account and region. Credentials come from the SDK's default chain
 * (environment, shared config and SSO, instance role), never from the description; `endpoint` is
 * set only for a local stand-in (moto), which speaks the same protocol.
 */
export function awsClients(aws: AwsSection): { ec2: EC2Client; route53: Route53Client } {
  const common = { region: aws.region, maxAttempts: 3, ...(aws.endpoint ? { endpoint: aws.endpoint } : {}) };
  return { ec2: new EC2Client(common), route53: new Route53Client(common) };
}
