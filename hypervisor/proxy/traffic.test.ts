import { describe, expect, it } from 'vitest';
import { Traffic } from './traffic.ts';

const settledWithin = async <T>(promise: Promise<T>, ms: number): Promise<T | 'pending'> =>
  Promise.race([promise, new Promise<'pending'>((resolve) => setTimeout(() => resolve('pending'), ms))]);

describe('Traffic (what a route switch drains)', () => {
  it('reports a sandbox drained once its last request ends', async () => {
    const traffic = new Traffic();
    const end = traffic.begin('u1:live');
    expect(traffic.inFlight('u1:live')).toBe(1);
    const drained = traffic.drained('u1:live', 5_000);
    expect(await settledWithin(drained, 30)).toBe('pending');
    end();
    expect(await drained).toBe(true);
    expect(traffic.inFlight('u1:live')).toBe(0);
  });

  it('gives up at the timeout while a request is still in flight', async () => {
    const traffic = new Traffic();
    traffic.begin('u1:live');
    expect(await traffic.drained('u1:live', 20)).toBe(false);
  });

  it("waits for a request of the same user that is still resolving its target, and for no one else's", async () => {
    const traffic = new Traffic();
    traffic.resolving('u2');
    expect(await traffic.drained('u1:live', 10)).toBe(true);
    const resolvedOwn = traffic.resolving('u1');
    const drained = traffic.drained('u1:live', 5_000);
    expect(await settledWithin(drained, 30)).toBe('pending');
    const end = traffic.begin('u1:live');
    resolvedOwn();
    expect(await settledWithin(drained, 30)).toBe('pending');
    end();
    expect(await drained).toBe(true);
  });

  it('counts each request once however often its end is reported, and waits for every request of the user still resolving', async () => {
    const traffic = new Traffic();
    const first = traffic.begin('u3:live');
    const second = traffic.begin('u3:live');
    first();
    first();
    expect(traffic.inFlight('u3:live'), 'the first request ended twice; the second is still in flight').toBe(1);
    second();
    expect([traffic.inFlight('u3:live'), await traffic.drained('u3:live', 10)]).toEqual([0, true]);

    const resolvedA = traffic.resolving('u3');
    const resolvedB = traffic.resolving('u3');
    resolvedA();
    resolvedA();
    expect(await traffic.drained('u3:live', 10), 'one request of u3 is still resolving').toBe(false);
    resolvedB();
    expect(await traffic.drained('u3:live', 10)).toBe(true);
  });

  it('keeps an open WebSocket of a sandbox once a request to it ends, so a route switch still closes it', async () => {
    const traffic = new Traffic();
    const closed: number[] = [];
    traffic.addWebSocket('u4:live', { close: (code) => closed.push(code), terminate: () => undefined });
    traffic.begin('u4:live')();
    expect(traffic.webSockets('u4:live')).toBe(1);
    expect(traffic.closeWebSockets('u4:live', 1012, 'route switched')).toBe(1);
    expect(closed).toEqual([1012]);
  });

  it('wakes a drain that outlived the last request while the user had another still resolving, once that one lands on the sandbox and ends', async () => {
    const traffic = new Traffic();
    const first = traffic.begin('u5:live');
    const resolved = traffic.resolving('u5');
    const drained = traffic.drained('u5:live', 5_000);
    first();
    expect(await settledWithin(drained, 30), 'u5 has a request still resolving').toBe('pending');
    const second = traffic.begin('u5:live');
    resolved();
    second();
    expect(await settledWithin(drained, 1_000)).toBe(true);
  });

  it('closes WebSockets cleanly, then drops those that do not finish closing in time', async () => {
    const traffic = new Traffic();
    const events: string[] = [];
    const polite = traffic.addWebSocket('u1:live', { close: (code) => events.push(`polite closed ${code}`), terminate: () => events.push('polite dropped') });
    traffic.addWebSocket('u1:dev', { close: (code) => events.push(`stubborn closed ${code}`), terminate: () => events.push('stubborn dropped') });
    setTimeout(polite, 5);
    await traffic.closeAll(1001, 'shutting down', 100);
    expect(events).toEqual(['polite closed 1001', 'stubborn closed 1001', 'stubborn dropped']);
  });
});
