import { describe, expect, it } from 'vitest';
import { KeyedLock } from './keyed-lock.ts';

describe('the keyed lock', () => {
  it('runs operations on one key one at a time, in order, and other keys alongside', async () => {
    const lock = new KeyedLock();
    const order: string[] = [];
    let releaseFirst!: () => void;
    const first = lock.run('a', () => new Promise<void>((resolve) => (releaseFirst = resolve)).then(() => void order.push('a1')));
    const second = lock.run('a', async () => void order.push('a2'));
    await lock.run('b', async () => void order.push('b1'));
    expect(order).toEqual(['b1']);
    expect(lock.pending().length).toBeGreaterThan(0);
    releaseFirst();
    await Promise.all([first, second]);
    expect(order).toEqual(['b1', 'a1', 'a2']);
  });

  it('runs the next operation after one that failed, and hands the failure to its caller', async () => {
    const lock = new KeyedLock();
    await expect(lock.run('a', () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await lock.run('a', async () => 'after')).toBe('after');
  });
});
