import type { Logger } from '../log.ts';
import type { Release, Releases } from './releases.ts';
import type { SlotReleases } from './slot-releases.ts';

/** The last N known-good releases: these stay runnable, so their images are never pruned. */
export function retainedReleases(releases: Releases, retain: number): Release[] {
  return releases.knownGood().slice(0, retain);
}

export interface PruneDeps {
  releases: Releases;
  slotReleases: SlotReleases;
  retain: number;
  /** Image ids or references that stay whatever the releases say (the configured default image). */
  protectedImages: readonly string[];
  removeImage: (image: string) => Promise<void>;
  logger: Logger;
}

export interface PruneResult {
  removed: Array<{ release: number; image: string }>;
  kept: Array<{ release: number; image: string; why: string }>;
  failed: Array<{ release: number; image: string; error: string }>;
}

/**
 * Removes the images of podman releases nobody can need: not among the retained known-good ones,
 * not on any user's slot, and not a candidate newer than the newest known-good (still to be judged).
 * An image shared with a kept release stays. Process releases have no image and are left alone.
 */
export async function prune(deps: PruneDeps): Promise<PruneResult> {
  const all = deps.releases.list().filter((release) => release.runtime === 'podman' && release.status !== 'pruned');
  const retained = new Set(retainedReleases(deps.releases, deps.retain).map((release) => release.id));
  const onSlots = new Set(deps.slotReleases.list().map((slot) => slot.releaseId));
  const newestKnownGood = Math.max(0, ...deps.releases.knownGood().map((release) => release.id));
  const keepWhy = (release: Release): string | undefined => {
    if (retained.has(release.id)) return `one of the last ${deps.retain} known-good releases`;
    if (onSlots.has(release.id)) return 'a user slot runs it';
    if (!release.knownGoodAt && release.id > newestKnownGood && release.status !== 'refused') return 'a candidate newer than the newest known-good release';
    if (deps.protectedImages.includes(release.image) || deps.protectedImages.includes(release.imageRef)) return 'the configured default image';
    return undefined;
  };
  const result: PruneResult = { removed: [], kept: [], failed: [] };
  const keptImages = new Set<string>();
  const candidates: Release[] = [];
  for (const release of all) {
    const why = keepWhy(release);
    if (why) {
      keptImages.add(release.image);
      result.kept.push({ release: release.id, image: release.image, why });
    } else {
      candidates.push(release);
    }
  }
  const removedImages = new Set<string>();
  for (const release of candidates) {
    if (keptImages.has(release.image)) {
      result.kept.push({ release: release.id, image: release.image, why: 'its image is shared with a kept release' });
      continue;
    }
    try {
      if (!removedImages.has(release.image)) await deps.removeImage(release.image);
      removedImages.add(release.image);
      deps.releases.setStatus(release.id, 'pruned');
      result.removed.push({ release: release.id, image: release.image });
    } catch (error) {
      result.failed.push({ release: release.id, image: release.image, error: (error as Error).message });
    }
  }
  deps.logger.info({ event: 'routing.prune', removed: result.removed.length, kept: result.kept.length, failed: result.failed.length, retain: deps.retain }, 'pruned release images');
  return result;
}
