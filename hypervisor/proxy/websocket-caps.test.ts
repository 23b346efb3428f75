import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { once } from 'node:events';
import { WebSocket } from 'ws';
import { waitFor } from '../../fixtures/test-hypervisor.ts';
import { closedPort, startFront, testUserHeader, type Front } from './testing/front.ts';
import { startUpstream, type Upstream } from './testing/upstream.ts';

async function open(front: Front, user: string): Promise<WebSocket> {
  const ws = new WebSocket(`ws://127.0.0.1:${front.port}/ws`, { headers: { [testUserHeader]: user } });
  await once(ws, 'open');
  return ws;
}

/** Opens one more WebSocket and resolves with how it was closed (the cap accepts, then closes). */
async function refused(front: Front, user: string, protocols: string[] = []): Promise<[number, string]> {
  const ws = new WebSocket(`ws://127.0.0.1:${front.port}/ws`, protocols, { headers: { [testUserHeader]: user } });
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

describe('places under the WebSocket caps', () => {
  let sandbox: Upstream;
  let front: Front;
  beforeAll(async () => {
    sandbox = await startUpstream('capped-live');
    front = await startFront({ 'alice:main': { port: sandbox.port, role: 'live' }, 'dave:main': { port: await closedPort(), role: 'live' } }, { maxWebSocketsPerUser: 1, maxWebSockets: 10 });
  });
  afterAll(async () => {
    await front.close();
    await sandbox.close();
  });

  it('a client offering subprotocols past the cap still sees the close code (1008), not a failed handshake', async () => {
    const held = await open(front, 'alice');
    expect(await refused(front, 'alice', ['choir.v1', 'other'])).toEqual([1008, 'too many WebSockets for this user (limit 1): close some']);
    held.close();
    await once(held, 'close');
  });

  it('an upgrade whose sandbox refused the connection (502) gives its place back', async () => {
    /** How the upgrade ended: refused over HTTP by the relay, or accepted and closed by the cap. */
    const answer = async (): Promise<string> => {
      const ws = new WebSocket(`ws://127.0.0.1:${front.port}/ws`, { headers: { [testUserHeader]: 'dave' } });
      // Terminating a refused handshake emits 'error' (events.once would reject on it), so plain listeners.
      ws.on('error', () => undefined);
      const closed = new Promise<number>((resolve) => ws.once('close', resolve));
      const ended = await new Promise<string>((resolve) => {
        ws.once('unexpected-response', (_request, response) => resolve(`HTTP ${String(response.statusCode)}`));
        void closed.then((code) => resolve(`closed with ${code}`));
      });
      ws.terminate();
      await closed;
      return ended;
    };
    expect(await answer()).toBe('HTTP 502');
    // The place comes back once the server has seen the refused connection close; a place never given back means 1008 forever.
    for (let i = 0; i < 2; i += 1) await waitFor('the refused upgrade to give its place back', async () => ((await answer()) === 'HTTP 502' ? true : undefined), 5_000);
  });
});

describe('places under the global WebSocket cap', () => {
  let sandbox: Upstream;
  let front: Front;
  beforeAll(async () => {
    sandbox = await startUpstream('capped-live');
    const target = { port: sandbox.port, role: 'live' as const };
    front = await startFront({ 'alice:main': target, 'bob:main': target }, { maxWebSocketsPerUser: 10, maxWebSockets: 2 });
  });
  afterAll(async () => {
    await front.close();
    await sandbox.close();
  });

  /** A new WebSocket once the sandbox greets it (admitted); undefined when the cap closes it instead. */
  async function admitted(user: string): Promise<WebSocket | undefined> {
    const ws = new WebSocket(`ws://127.0.0.1:${front.port}/ws`, { headers: { [testUserHeader]: user } });
    ws.on('error', () => undefined);
    const greeted = await new Promise<boolean>((resolve) => {
      ws.once('message', () => resolve(true));
      ws.once('close', () => resolve(false));
    });
    return greeted ? ws : undefined;
  }

  it('gives a place under the global cap back when a WebSocket closes: users filling it in turns are admitted again and again', async () => {
    for (let round = 0; round < 3; round += 1) {
      // The place comes back once the server has seen the last round's connections close.
      const pair = [
        await waitFor(`alice admitted in round ${round}`, () => admitted('alice'), 5_000),
        await waitFor(`bob admitted in round ${round}`, () => admitted('bob'), 5_000),
      ];
      for (const ws of pair) {
        ws.close();
        await once(ws, 'close');
      }
    }
  });
});
