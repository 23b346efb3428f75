import { describe, expect, it } from 'vitest';
import { openDatabase } from '../store/database.ts';
import { Releases } from './releases.ts';
import { prune } from './retention.ts';
import { migrateRouting } from './schema.ts';
import { SlotReleases } from './slot-releases.ts';
import { collectingLogger } from './testing/collecting-logger.ts';

describe('known-good retention when an image cannot be removed', () => {
  it('reports the failure, keeps that release unpruned (still known-good) and tries it again on the next prune', async () => {
    const db = openDatabase('sqlite::memory:');
    migrateRouting(db);
    const releases = new Releases(db);
    const release = (image: string) => releases.create({ runtime: 'podman', image, imageRef: `localhost/sandbox:${image}`, config: {}, revision: null });
    const [oldest, older, newest] = [release('1111'), release('2222'), release('3333')];
    for (const known of [oldest, older, newest]) releases.markKnownGood(known.id);
    const attempts: string[] = [];
    let inUse = true;
    const removeImage = async (image: string): Promise<void> => {
      attempts.push(image);
      if (image === '1111' && inUse) throw new Error('image is in use by a container');
    };
    const deps = { releases, slotReleases: new SlotReleases(db), retain: 1, protectedImages: [], removeImage, logger: collectingLogger().logger };

    const first = await prune(deps);
    expect(first.failed).toEqual([{ release: oldest.id, image: '1111', error: 'image is in use by a container' }]);
    expect(first.removed).toEqual([{ release: older.id, image: '2222' }]);
    expect([releases.require(oldest.id).status, releases.require(older.id).status]).toEqual([oldest.status, 'pruned']);
    expect(releases.knownGood().map((r) => r.id), 'a release whose image is still there stays a rollback target').toEqual([newest.id, oldest.id]);

    inUse = false;
    const second = await prune(deps);
    expect(second).toMatchObject({ failed: [], removed: [{ release: oldest.id, image: '1111' }] });
    expect(attempts.filter((image) => image === '1111')).toHaveLength(2);
    expect(releases.require(oldest.id).status).toBe('pruned');
  });
});
