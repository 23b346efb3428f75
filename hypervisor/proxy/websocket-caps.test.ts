import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { once } from 'node:events';
import { WebSocket } from 'ws';
import { startFront, testUserHeader, type Front } from './testing/front.ts';
import { startUpstream, type Upstream } from './testing/upstream.ts';

async function open(front: Front, user: string): Promise<WebSocket> {
  const ws = new WebSocket(`ws://127.0.0.1:${front.port}/ws`, { headers: { [testUserHeader]: user } });
  await once(ws, 'open');
  return ws;
}

/** Opens one more WebSocket and resolves with how it was closed (the cap accepts, then closes). */
async function refused(front: Front, user: string): Promise<[number, string]> {
  const ws = new WebSocket(`ws://127.0.0.1:${front.port}/ws`, { headers: { [testUserHeader]: user } });
  const [code, reason] = (await once(ws, 'close')) as [number, Buffer];
  return [code, reason.toString()];
}

describe('caps on proxied WebSockets, per user and in all', () => {
  let sandbox: Upstream;
  let front: Front;
  const held: WebSocket[] = [];
  beforeAll(async () => {
    sandbox = await startUpstream('capped-live');
    const target = { port: sandbox.port, role: 'live' as const };
    front = await startFront({ 'alice:main': target, 'bob:main': target, 'carol:main': target }, { maxWebSocketsPerUser: 2, maxWebSockets: 3 });
  });
  afterEach(async () => {
    for (const ws of held.splice(0)) {
      ws.close();
      await once(ws, 'close');
    }
  });
  afterAll(async () => {
    await front.close();
    await sandbox.close();
  });

  it("closes a user's WebSocket past the per-user cap with 1008 and logs proxy.websocket_limit; a closed one frees its place", async () => {
    held.push(await open(front, 'alice'), await open(front, 'alice'));
    const [code, reason] = await refused(front, 'alice');
    expect(code).toBe(1008);
    expect(reason).toMatch(/too many WebSockets for this user \(limit 2\)/);
    const line = front.logLines.map((text) => JSON.parse(text) as Record<string, unknown>).find((entry) => entry.event === 'proxy.websocket_limit');
    expect(line).toMatchObject({ user: 'alice', scope: 'user', limit: 2, level: 40 });
    const first = held.shift() as WebSocket;
    first.close();
    await once(first, 'close');
    held.push(await open(front, 'alice'));
  });

  it('closes any WebSocket past the global cap with 1013 (try again later)', async () => {
    held.push(await open(front, 'alice'), await open(front, 'alice'), await open(front, 'bob'));
    const [code, reason] = await refused(front, 'carol');
    expect(code).toBe(1013);
    expect(reason).toMatch(/too many WebSockets on this hypervisor \(limit 3\)/);
  });
});
