import type { Tag, TagSpecification, ResourceType } from '@aws-sdk/client-ec2';
import type { AwsSection } from '../gate-runner/aws-section.ts';

/** Every resource provisioning makes carries this tag with the target's name: it is how they are found again. */
export const targetTagKey = 'choiros:target';
/** What the resource is for (host, ssh), so a reader of the console knows without the transcript. */
export const roleTagKey = 'choiros:role';

export function resourceTags(aws: AwsSection, role: string, extra: Readonly<Record<string, string>> = {}): Tag[] {
  return [
    { Key: 'Name', Value: `${aws.name}-${role}` },
    { Key: targetTagKey, Value: aws.name },
    { Key: roleTagKey, Value: role },
    ...Object.entries(aws.tags).map(([Key, Value]) => ({ Key, Value })),
    ...Object.entries(extra).map(([Key, Value]) => ({ Key, Value })),
  ];
}

export function tagSpecification(type: ResourceType, tags: Tag[]): TagSpecification {
  return { ResourceType: type, Tags: tags };
}

export const targetFilter = (aws: AwsSection) => ({ Name: `tag:${targetTagKey}`, Values: [aws.name] });

export function tagValue(tags: readonly Tag[] | undefined, key: string): string | undefined {
  return tags?.find((t) => t.Key === key)?.Value;
}

/** The user's tags that differ from the description (missing or another value). */
export function tagDrift(aws: AwsSection, tags: readonly Tag[] | undefined): string[] {
  return Object.entries(aws.tags).filter(([key, value]) => tagValue(tags, key) !== value).map(([key, value]) => `tag ${key}: ${tagValue(tags, key) ?? '(none)'} -> ${value}`);
}
