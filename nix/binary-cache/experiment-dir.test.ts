import { rmSync, statfsSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { makeExperimentDir } from './experiment-dir.ts';

describe('the cache experiment directory', () => {
  it('is new, empty and in memory where the machine has a tmpfs at /dev/shm, so build durations do not ride on disk writeback', () => {
    const { dir, where } = makeExperimentDir('choiros-experiment-test-');
    try {
      expect(readdirSync(dir)).toEqual([]);
      const shmIsTmpfs = (() => {
        try {
          return statfsSync('/dev/shm').type === 0x01021994;
        } catch {
          return false;
        }
      })();
      expect(where).toBe(shmIsTmpfs ? 'memory (tmpfs)' : 'disk');
      expect(statfsSync(dir).type === 0x01021994).toBe(where === 'memory (tmpfs)');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
