import { afterAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { podman } from '../podman/podman.ts';
import { openDatabase } from '../store/database.ts';
import { Routing } from './routing.ts';
import { collectingLogger } from './testing/collecting-logger.ts';
import { HttpSlots, RecordedTraffic } from './testing/http-slots.ts';

const suffix = `${process.pid}-${Date.now().toString(36)}`;
const repository = `localhost/routing-prune-${suffix}`;
const workDir = mkdtempSync(path.join(tmpdir(), 'routing-prune-'));
const slots = new HttpSlots();

/** A tiny real image with its own content (so its own id) and a revision label. */
async function buildImage(name: string): Promise<string> {
  const context = path.join(workDir, name);
  writeFileSync(path.join(workDir, `${name}.Containerfile`), `FROM scratch\nCOPY marker /marker\nLABEL org.opencontainers.image.revision=rev-${name}\n`);
  mkdirSync(context, { recursive: true });
  writeFileSync(path.join(context, 'marker'), `${name} ${suffix}\n`);
  const tag = `${repository}:${name}`;
  await podman(['build', '--quiet', '-f', path.join(workDir, `${name}.Containerfile`), '-t', tag, context]);
  return tag;
}

async function exists(tag: string): Promise<boolean> {
  return podman(['image', 'exists', tag]).then(
    () => true,
    () => false,
  );
}

afterAll(async () => {
  await slots.close();
  const leftovers = (await podman(['images', '--format', '{{.Repository}}:{{.Tag}}', '--filter', `reference=${repository}`])).split('\n').filter(Boolean);
  if (leftovers.length) await podman(['rmi', '--force', ...leftovers]);
  rmSync(workDir, { recursive: true, force: true });
});

describe('known-good retention', () => {
  it('prune removes only release images that are not among the last N known-good, not on a slot, not pending and not protected', async () => {
    const names = ['a', 'b', 'c', 'd', 'e', 'f', 'h'];
    const tags = Object.fromEntries(await Promise.all(names.map(async (name) => [name, await buildImage(name)] as const)));
    const { logger } = collectingLogger();
    const routing = new Routing({
      db: openDatabase('sqlite::memory:'),
      slots,
      traffic: new RecordedTraffic(),
      logger,
      options: { knownGoodRetain: 2, healthDeadlineMs: 5_000, protectedImages: [tags.h ?? ''] },
    });
    const release = (name: string) => routing.createRelease({ runtime: 'podman', image: tags[name] ?? '' });
    const a = await release('a');
    expect(a.revision).toBe('rev-a');
    expect(a.image).toMatch(/^[a-f0-9]{64}$/);
    const b = await release('b');
    const c = await release('c');
    const d = await release('d');
    const e = await release('e');
    const h = await release('h');
    for (const known of [a, b, c, d]) routing.markKnownGood(known.id, 'test');
    routing.releases.setStatus(e.id, 'refused');
    routing.releases.setStatus(h.id, 'refused');
    const sharesD = routing.releases.create({ ...d, imageRef: tags.d ?? '', note: 'same image as d, other config', config: { SANDBOX_CONDUCTOR_STEP_MS: '5' } });
    routing.releases.setStatus(sharesD.id, 'refused');
    const f = await release('f');
    await routing.deploy(`prune-${suffix}`, a.id, 'test');

    expect(routing.retained().map((r) => r.id)).toEqual([d.id, c.id]);
    const result = await routing.prune();

    expect(result.failed).toEqual([]);
    expect(result.removed.map((r) => r.release).sort()).toEqual([b.id, e.id].sort());
    expect(Object.fromEntries(result.kept.map((k) => [k.release, k.why]))).toEqual({
      [a.id]: 'a user slot runs it',
      [c.id]: 'one of the last 2 known-good releases',
      [d.id]: 'one of the last 2 known-good releases',
      [f.id]: 'a candidate newer than the newest known-good release',
      [h.id]: 'the configured default image',
      [sharesD.id]: 'its image is shared with a kept release',
    });
    const present = Object.fromEntries(await Promise.all(names.map(async (name) => [name, await exists(tags[name] ?? '')] as const)));
    expect(present).toEqual({ a: true, b: false, c: true, d: true, e: false, f: true, h: true });
    expect(routing.releases.require(b.id).status).toBe('pruned');
    await expect(routing.rollback({ userId: 'nobody', actor: 'test', reason: 'x', releaseId: b.id })).rejects.toThrow(/release \d+ was pruned/);
  });

  it('prune keeps a release of the configured default image made under another reference: the protected reference counts by its image id too', async () => {
    const tag = await buildImage('default');
    const again = `${repository}:default-again`;
    await podman(['tag', tag, again]);
    const { logger } = collectingLogger();
    const routing = new Routing({ db: openDatabase('sqlite::memory:'), slots, traffic: new RecordedTraffic(), logger, options: { knownGoodRetain: 1, healthDeadlineMs: 5_000, protectedImages: [tag] } });
    const retagged = await routing.createRelease({ runtime: 'podman', image: again });
    routing.releases.setStatus(retagged.id, 'refused');

    const result = await routing.prune();
    expect(result).toEqual({ removed: [], kept: [{ release: retagged.id, image: retagged.image, why: 'the configured default image' }], failed: [] });
    expect(await exists(tag)).toBe(true);
  });

  it('prune removes an image shared by two prunable releases and marks both pruned; a second prune reports nothing removed, kept or failed', async () => {
    const tag = await buildImage('shared');
    const { logger } = collectingLogger();
    const routing = new Routing({ db: openDatabase('sqlite::memory:'), slots, traffic: new RecordedTraffic(), logger, options: { knownGoodRetain: 1, healthDeadlineMs: 5_000, protectedImages: [] } });
    const first = await routing.createRelease({ runtime: 'podman', image: tag });
    const second = routing.releases.create({ ...first, note: 'same image, other config', config: { SANDBOX_CONDUCTOR_STEP_MS: '5' } });
    for (const refused of [first, second]) routing.releases.setStatus(refused.id, 'refused');

    const once = await routing.prune();
    expect(once.failed).toEqual([]);
    expect(once.removed.map((r) => r.release).sort()).toEqual([first.id, second.id].sort());
    expect(await exists(tag)).toBe(false);
    expect([first, second].map((r) => routing.releases.require(r.id).status)).toEqual(['pruned', 'pruned']);

    // A pruned release has no image left to remove: pruning again must not try, nor count a failure.
    const again = await routing.prune();
    expect(again).toEqual({ removed: [], kept: [], failed: [] });
  });
});
