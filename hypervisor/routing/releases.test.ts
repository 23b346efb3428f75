import { describe, expect, it } from 'vitest';
import { openDatabase } from '../store/database.ts';
import { parseReleaseConfig, Releases, runsRelease, type Release } from './releases.ts';
import { RoutingError } from './errors.ts';
import { migrateRouting } from './schema.ts';

function catalogue(): { releases: Releases; provenAt(release: Release, at: string): void } {
  const db = openDatabase('sqlite::memory:');
  migrateRouting(db);
  return {
    releases: new Releases(db),
    // Pins when a release was proven, so "most recently proven" and "newest" can differ.
    provenAt: (release, at) => void db.prepare('UPDATE releases SET known_good_at = ? WHERE id = ?').run(at, release.id),
  };
}

const processRelease = (config: Record<string, string> = {}) => ({ runtime: 'process' as const, image: '', imageRef: 'process', config, revision: null });

describe('releases', () => {
  it('roll back to the newest known-good release older than the current one, never the current one or a pruned one', () => {
    const { releases, provenAt } = catalogue();
    const [first, second, third, fourth] = [1, 2, 3, 4].map(() => releases.create(processRelease())) as [Release, Release, Release, Release];
    // Proven out of id order: the first release was proven last (re-served after a rollback).
    provenAt(second, '2026-01-02T00:00:00.000Z');
    provenAt(third, '2026-01-03T00:00:00.000Z');
    provenAt(fourth, '2026-01-04T00:00:00.000Z');
    provenAt(first, '2026-01-05T00:00:00.000Z');

    expect(releases.previousKnownGood(fourth)?.id).toBe(third.id);
    expect(releases.previousKnownGood(undefined)?.id).toBe(fourth.id);
    releases.setStatus(second.id, 'pruned');
    expect(releases.previousKnownGood(third)?.id).toBe(first.id);
    expect(releases.previousKnownGood(first)).toBeUndefined();
  });

  it('list known-good releases most recently proven first, and keep the first time a release was proven', () => {
    const { releases, provenAt } = catalogue();
    const older = releases.create(processRelease());
    const newer = releases.create(processRelease());
    const never = releases.create(processRelease());
    provenAt(newer, '2026-01-01T00:00:00.000Z');
    provenAt(older, '2026-01-02T00:00:00.000Z');
    expect(releases.knownGood().map((release) => release.id)).toEqual([older.id, newer.id]);
    expect(releases.markKnownGood(newer.id).knownGoodAt).toBe('2026-01-01T00:00:00.000Z');
    expect(releases.knownGood().some((release) => release.id === never.id)).toBe(false);
  });

  it('list the catalogue newest first', () => {
    const { releases } = catalogue();
    const ids = [1, 2, 3].map(() => releases.create(processRelease()).id);
    expect(releases.list().map((release) => release.id)).toEqual([...ids].reverse());
  });

  it('a sandbox runs a release when runtime, image and config match, whatever order the config was written in', () => {
    const { releases } = catalogue();
    const podman = releases.create({ runtime: 'podman', image: 'sha256:abc', imageRef: 'localhost/choir-sandbox:0.1.0', config: { SANDBOX_VERSION: '2', SANDBOX_CONDUCTOR_STEP_MS: '50' }, revision: null });
    expect(runsRelease({ runtime: 'podman', image: 'sha256:abc', config: { SANDBOX_CONDUCTOR_STEP_MS: '50', SANDBOX_VERSION: '2' } }, podman)).toBe(true);
    expect(runsRelease({ runtime: 'podman', image: 'localhost/choir-sandbox:0.1.0', config: podman.config }, podman)).toBe(false);
    expect(runsRelease({ runtime: 'podman', image: 'sha256:abc', config: { SANDBOX_VERSION: '2' } }, podman)).toBe(false);
    expect(runsRelease({ runtime: 'process', image: 'sha256:abc', config: podman.config }, podman)).toBe(false);
  });

  it('take a release config of allowlisted UPPER_CASE names to strings, and refuse anything else as invalid input', () => {
    expect(parseReleaseConfig(undefined)).toEqual({});
    expect(parseReleaseConfig(null)).toEqual({});
    expect(parseReleaseConfig({ SANDBOX_VERSION: '3' })).toEqual({ SANDBOX_VERSION: '3' });
    for (const bad of [['SANDBOX_VERSION'], 'SANDBOX_VERSION=3', { sandbox_version: '3' }, { SANDBOX_VERSION: 3 }, { HYPERVISOR_ADMIN_TOKEN: 'x' }]) {
      expect(() => parseReleaseConfig(bad)).toThrow(RoutingError);
      try {
        parseReleaseConfig(bad);
      } catch (error) {
        expect((error as RoutingError).code).toBe('invalid_input');
      }
    }
  });

  it('refuse a config name that only starts like an environment variable name, saying so', () => {
    for (const name of ['SANDBOX_VERSION-2', 'SANDBOX VERSION', 'SANDBOX_version']) {
      expect(() => parseReleaseConfig({ [name]: '3' }), name).toThrow(/is not an environment variable name: use UPPER_CASE letters, digits and _/);
    }
  });
});
