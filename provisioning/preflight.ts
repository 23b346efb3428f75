import { DescribeImagesCommand, DescribeInstanceTypesCommand } from '@aws-sdk/client-ec2';
import type { ProvisioningContext } from './change.ts';
import { knownRegions } from './regions.ts';

/** A provisioning input that is wrong; the message names the field or setting to fix. */
export class ProvisioningInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProvisioningInputError';
  }
}

/** What an AWS error is called, whichever client threw it. */
export const awsErrorName = (error: unknown): string => (error as { name?: string; Code?: string }).Code ?? (error as Error).name ?? '';

/**
 * Checks everything that can be wrong before anything is created, so a bad description fails with
 * nothing half-applied: credentials, region, instance type, AMI. Returns the AMI's root device name
 * (the gp3 root volume maps onto it).
 */
export async function preflight(ctx: ProvisioningContext): Promise<{ rootDeviceName: string }> {
  const { aws, descriptionFile: file } = ctx;
  // Checked with an endpoint override too: a stand-in only serves real regions, and says so less clearly.
  if (!knownRegions.includes(aws.region)) {
    throw new ProvisioningInputError(`${file}: aws.region is "${aws.region}", which is not an AWS region: use one of ${knownRegions.join(', ')}.`);
  }
  try {
    await ctx.ec2.config.credentials();
  } catch (error) {
    throw new ProvisioningInputError(`no AWS credentials: the SDK's default chain found none (${(error as Error).message.split('\n')[0]}). Set AWS_PROFILE (after aws sso login or aws configure), or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, then run again. Credentials never go in ${file}.`);
  }
  try {
    const types = await ctx.ec2.send(new DescribeInstanceTypesCommand({ InstanceTypes: [aws.instanceType as never] }));
    if (!types.InstanceTypes?.length) throw Object.assign(new Error('not offered'), { name: 'InvalidInstanceType' });
  } catch (error) {
    if (/InvalidInstanceType|InvalidParameterValue/.test(awsErrorName(error)) || /instance type/i.test((error as Error).message)) {
      throw new ProvisioningInputError(`${file}: aws.instanceType is "${aws.instanceType}", which ${aws.region} does not offer: use an EC2 instance type such as t3a.large.`);
    }
    throw explainAwsError(error, file);
  }
  let images;
  try {
    images = await ctx.ec2.send(new DescribeImagesCommand({ ImageIds: [aws.ami] }));
  } catch (error) {
    if (/InvalidAMIID/.test(awsErrorName(error))) throw amiMissing(ctx);
    throw explainAwsError(error, file);
  }
  const image = images.Images?.[0];
  if (!image) throw amiMissing(ctx);
  return { rootDeviceName: image.RootDeviceName ?? '/dev/xvda' };
}

function amiMissing(ctx: ProvisioningContext): ProvisioningInputError {
  return new ProvisioningInputError(`${ctx.descriptionFile}: aws.ami is "${ctx.aws.ami}", which does not exist in ${ctx.aws.region} (or this account cannot use it): set it to an AMI of that region, e.g. the NixOS image for ${ctx.aws.region}.`);
}

/** Credential and endpoint failures the SDK reports with internal names, said plainly. */
export function explainAwsError(error: unknown, file: string): Error {
  const name = awsErrorName(error);
  const message = (error as Error).message ?? String(error);
  if (/AuthFailure|InvalidClientTokenId|UnrecognizedClientException|SignatureDoesNotMatch/.test(name)) {
    return new ProvisioningInputError(`AWS refused the credentials (${name}): check AWS_PROFILE or the access key the SDK's default chain finds. ${message}`);
  }
  if (/ECONNREFUSED|ENOTFOUND|EAI_AGAIN/.test(message) || /ECONNREFUSED|ENOTFOUND/.test(String((error as { code?: string }).code))) {
    return new ProvisioningInputError(`cannot reach the AWS endpoint (${message}): check ${file}'s aws.endpoint and aws.region, and the network.`);
  }
  return error instanceof Error ? error : new Error(message);
}
