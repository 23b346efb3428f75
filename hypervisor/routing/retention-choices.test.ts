import { describe, expect, it } from 'vitest';
import { openDatabase } from '../store/database.ts';
import { Releases } from './releases.ts';
import { prune } from './retention.ts';
import { migrateRouting } from './schema.ts';
import { SlotReleases } from './slot-releases.ts';
import { collectingLogger } from './testing/collecting-logger.ts';

/** Releases and slot records in a database of their own; podman releases named by their image id. */
function releasesInMemory() {
  const db = openDatabase('sqlite::memory:');
  migrateRouting(db);
  const releases = new Releases(db);
  const podmanRelease = (image: string) => releases.create({ runtime: 'podman', image, imageRef: `localhost/sandbox:${image}`, config: {}, revision: null });
  return { releases, slotReleases: new SlotReleases(db), podmanRelease };
}

describe('which release images a prune removes', () => {
  it('leaves process releases alone, keeps an image protected by its reference, and removes a refused release even when it is newer than the newest known-good', async () => {
    const { releases, slotReleases, podmanRelease } = releasesInMemory();
    const processRelease = releases.create({ runtime: 'process', image: '', imageRef: 'process', config: {}, revision: null });
    const defaultImage = podmanRelease('dddd');
    const old = podmanRelease('1111');
    const knownGood = podmanRelease('2222');
    releases.markKnownGood(knownGood.id);
    const refused = podmanRelease('3333');
    releases.setStatus(refused.id, 'refused');
    const candidate = podmanRelease('4444');
    const removed: string[] = [];
    const removeImage = async (image: string): Promise<void> => {
      removed.push(image);
    };

    const result = await prune({ releases, slotReleases, retain: 1, protectedImages: ['localhost/sandbox:dddd'], removeImage, logger: collectingLogger().logger });

    expect(result.failed).toEqual([]);
    expect(removed.sort(), 'the images removed: the unretained old one and the refused one').toEqual(['1111', '3333']);
    expect(result.removed.map((r) => r.release).sort()).toEqual([old.id, refused.id].sort());
    expect(Object.fromEntries(result.kept.map((k) => [k.release, k.why]))).toEqual({
      [defaultImage.id]: 'the configured default image',
      [knownGood.id]: 'one of the last 1 known-good releases',
      [candidate.id]: 'a candidate newer than the newest known-good release',
    });
    expect(releases.require(processRelease.id).status, 'a process release has no image to prune').toBe(processRelease.status);
  });

  it('removes a candidate older than the newest known-good release, even one newer than an older known-good release', async () => {
    const { releases, slotReleases, podmanRelease } = releasesInMemory();
    const olderKnownGood = podmanRelease('aaaa');
    const passedOver = podmanRelease('bbbb');
    const newestKnownGood = podmanRelease('cccc');
    for (const known of [olderKnownGood, newestKnownGood]) releases.markKnownGood(known.id);
    const removed: string[] = [];

    const result = await prune({ releases, slotReleases, retain: 2, protectedImages: [], removeImage: async (image) => void removed.push(image), logger: collectingLogger().logger });

    expect(removed, 'the candidate that a newer release was proven over: nothing is still to judge').toEqual(['bbbb']);
    expect(result.removed.map((r) => r.release)).toEqual([passedOver.id]);
  });

  it('keeps the image of a release a slot is still starting (a deploy in progress), as well as one a slot runs', async () => {
    const { releases, slotReleases, podmanRelease } = releasesInMemory();
    const starting = podmanRelease('5555');
    const ready = podmanRelease('6666');
    const unused = podmanRelease('7777');
    releases.markKnownGood(podmanRelease('8888').id);
    for (const release of [starting, ready, unused]) releases.setStatus(release.id, 'refused');
    slotReleases.record('ann', 'dev', starting.id, 'starting');
    slotReleases.record('bob', 'dev', ready.id, 'ready');
    const removed: string[] = [];

    const result = await prune({ releases, slotReleases, retain: 1, protectedImages: [], removeImage: async (image) => void removed.push(image), logger: collectingLogger().logger });

    expect(removed).toEqual(['7777']);
    expect(result.kept.filter((k) => k.why === 'a user slot runs it').map((k) => k.release).sort()).toEqual([starting.id, ready.id].sort());
  });
});
