import { execa } from 'execa';
import { podman, PodmanError } from '../podman/podman.ts';
import { repoRoot } from '../paths.ts';
import { RoutingError } from './errors.ts';

/** What a release pins: the image's id and the source revision it was built from. */
export interface ImageFacts {
  id: string;
  revision: string | null;
  tags: string[];
}

const revisionLabel = 'org.opencontainers.image.revision';

interface InspectedImage {
  Id?: string;
  RepoTags?: string[] | null;
  Labels?: Record<string, string> | null;
  Config?: { Labels?: Record<string, string> | null };
}

/** Resolves an image reference in podman's store to its id, tags and revision label. */
export async function inspectImage(reference: string, binary?: string): Promise<ImageFacts> {
  let output: string;
  try {
    output = await podman(['image', 'inspect', reference], binary ? { binary } : {});
  } catch (error) {
    if (error instanceof PodmanError) {
      throw new RoutingError('invalid_input', `image "${reference}" is not in podman's image store (${error.stderr.trim().split('\n')[0] ?? ''}): build it first (npm run image) or name an image that exists (podman images)`);
    }
    throw error;
  }
  const [image] = JSON.parse(output) as InspectedImage[];
  if (!image?.Id) throw new RoutingError('invalid_input', `podman image inspect "${reference}" returned no image id`);
  const labels = image.Labels ?? image.Config?.Labels ?? {};
  return { id: image.Id.replace(/^sha256:/, ''), revision: labels[revisionLabel] ?? null, tags: image.RepoTags ?? [] };
}

/** The checkout's revision, which is what a process-runtime release runs. */
export async function checkoutRevision(): Promise<string | null> {
  const result = await execa('git', ['rev-parse', 'HEAD'], { cwd: repoRoot, reject: false });
  return result.exitCode === 0 ? String(result.stdout).trim() : null;
}

/**
 * Removes a release image: every tag, then the image itself. Without --force, so podman refuses
 * while any container still uses it. An image that is already gone counts as removed.
 */
export async function removeImage(id: string, binary?: string): Promise<void> {
  let facts: ImageFacts;
  try {
    facts = await inspectImage(id, binary);
  } catch (error) {
    if (error instanceof RoutingError) return; // already gone: nothing to remove
    throw error;
  }
  const names = facts.tags.length ? facts.tags : [id];
  await podman(['rmi', ...names], binary ? { binary } : {});
}
