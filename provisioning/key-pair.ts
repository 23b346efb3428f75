import { createHash } from 'node:crypto';
import { DeleteKeyPairCommand, DescribeKeyPairsCommand, ImportKeyPairCommand, type KeyPairInfo } from '@aws-sdk/client-ec2';
import type { PlannedChange, ProvisioningContext } from './change.ts';
import { resourceTags, tagDrift, tagSpecification, tagValue, targetFilter } from './tags.ts';

/** The public key's fingerprint as provisioning records it in a tag (EC2's own fingerprint format differs by key type). */
const publicKeyTag = 'choiros:public-key-sha256';
const keyDigest = (publicKey: string): string => createHash('sha256').update(publicKey.split(' ').slice(0, 2).join(' ')).digest('hex');

export async function findKeyPair(ctx: ProvisioningContext): Promise<KeyPairInfo | undefined> {
  const found = await ctx.ec2.send(new DescribeKeyPairsCommand({ Filters: [targetFilter(ctx.aws)] }));
  return found.KeyPairs?.find((k) => k.KeyName === ctx.aws.keyPair.name) ?? found.KeyPairs?.[0];
}

export async function planKeyPair(ctx: ProvisioningContext): Promise<PlannedChange> {
  const current = await findKeyPair(ctx);
  const wanted = ctx.aws.keyPair.name;
  const digest = keyDigest(ctx.publicKey);
  const importKey = async () => {
    await ctx.ec2.send(new ImportKeyPairCommand({ KeyName: wanted, PublicKeyMaterial: new TextEncoder().encode(ctx.publicKey), TagSpecifications: [tagSpecification('key-pair', resourceTags(ctx.aws, 'ssh', { [publicKeyTag]: digest }))] }));
  };
  const resource = `key pair ${wanted}`;
  if (!current?.KeyName) {
    return { resource, action: 'create', changes: [`import ${ctx.aws.keyPair.publicKeyFile}`], apply: async (p) => { await importKey(); p.keyName = wanted; return `imported ${wanted}`; } };
  }
  const changes: string[] = [];
  if (current.KeyName !== wanted) changes.push(`name: ${current.KeyName} -> ${wanted}`);
  if (tagValue(current.Tags, publicKeyTag) !== digest) changes.push(`public key: ${ctx.aws.keyPair.publicKeyFile} differs from the imported one`);
  changes.push(...tagDrift(ctx.aws, current.Tags));
  if (changes.length === 0) return { resource, action: 'none', changes, apply: async (p) => { p.keyName = wanted; return 'unchanged'; } };
  const old = current.KeyName;
  return {
    resource,
    action: 'replace',
    changes,
    // Key pairs cannot be edited: delete and import. Instances already running keep the key they booted with.
    apply: async (p) => {
      await ctx.ec2.send(new DeleteKeyPairCommand({ KeyName: old }));
      await importKey();
      p.keyName = wanted;
      return `replaced ${old} with ${wanted}`;
    },
  };
}

export async function destroyKeyPair(ctx: ProvisioningContext): Promise<string | undefined> {
  const current = await findKeyPair(ctx);
  if (!current?.KeyName) return undefined;
  await ctx.ec2.send(new DeleteKeyPairCommand({ KeyName: current.KeyName }));
  return current.KeyName;
}
