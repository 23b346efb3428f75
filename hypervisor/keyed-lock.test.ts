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

  it('keeps later operations in order after earlier ones finish, and forgets a key once all of its operations are done', async () => {
    const lock = new KeyedLock();
    const order: string[] = [];
    const gate = () => {
      let open!: () => void;
      const opened = new Promise<void>((resolve) => (open = resolve));
      return { open, opened };
    };
    const first = gate();
    const second = gate();
    const a1 = lock.run('a', async () => {
      await first.opened;
      order.push('a1 done');
    });
    const a2 = lock.run('a', async () => {
      order.push('a2 start');
      await second.opened;
      order.push('a2 done');
    });
    first.open();
    await a1;
    await new Promise((resolve) => setImmediate(resolve));
    // a2 is running now; a3 arrives and must still wait for it.
    const a3 = lock.run('a', async () => void order.push('a3 start'));
    await new Promise((resolve) => setImmediate(resolve));
    second.open();
    await Promise.all([a2, a3]);
    expect(order).toEqual(['a1 done', 'a2 start', 'a2 done', 'a3 start']);
    await Promise.all(lock.pending());
    await new Promise((resolve) => setImmediate(resolve));
    expect(lock.pending()).toEqual([]);
  });
});
