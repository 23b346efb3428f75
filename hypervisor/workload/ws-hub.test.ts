import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import WebSocket from 'ws';
import { fetch } from 'undici';
import { startSandboxInProcess, type InProcessSandbox } from './testing/sandbox-in-process.ts';
import { WsClient, type WsMessage } from './testing/ws-client.ts';

let sandbox: InProcessSandbox;
const clients: WsClient[] = [];

beforeEach(async () => {
  // Steps of 10 s: a run started here stays in flight until the test ends it.
  sandbox = await startSandboxInProcess({ CHOIR_SANDBOX_ROLE: 'dev', SANDBOX_CONDUCTOR_STEP_MS: '10000' });
});

afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await sandbox.dispose();
});

async function subscribed(...desktopIds: string[]): Promise<WsClient> {
  const client = await WsClient.connect(sandbox.url);
  clients.push(client);
  for (const desktopId of desktopIds) {
    const before = client.messages.length;
    client.send({ type: 'subscribe', desktop_id: desktopId });
    await client.waitFor((m) => m.type === 'desktop_state' && m.desktop_id === desktopId, { from: before });
  }
  return client;
}

async function execute(objective: string, desktopId: string): Promise<string> {
  const response = await fetch(`${sandbox.url}/conductor/execute`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ objective, desktop_id: desktopId }) });
  return ((await response.json()) as { run_id: string }).run_id;
}

/** A ping answered proves every frame the sandbox sent before it has arrived. */
async function settled(client: WsClient): Promise<void> {
  const before = client.messages.length;
  client.send({ type: 'ping' });
  await client.waitFor((m) => m.type === 'pong', { from: before });
}

const ofRun = (runId: string) => (m: WsMessage) => m.run_id === runId;

describe('the sandbox WebSocket hub (in process)', () => {
  test('on shutdown every connected client is closed with 1001 (going away), after the interrupted run is announced', async () => {
    const watcher = await subscribed('desk-stop');
    const idle = await subscribed();
    const runId = await execute('cut off by the stop', 'desk-stop');
    await watcher.waitFor((m) => m.type === 'conductor.run.started' && m.run_id === runId);
    await sandbox.close('the sandbox was stopped');
    await vi.waitFor(() => expect(watcher.closed && idle.closed).toBeTruthy(), { timeout: 10_000 });
    expect([watcher.closed?.code, idle.closed?.code]).toEqual([1001, 1001]);
    const failed = watcher.messages.find((m) => m.type === 'conductor.run.failed' && m.run_id === runId);
    expect(failed).toMatchObject({ status: 'failed', error: { code: 'interrupted' } });
  });

  test('the server sends pong first, on connect, before anything is asked', async () => {
    const client = await WsClient.connect(sandbox.url);
    clients.push(client);
    await client.waitFor((m) => m.type === 'pong');
    expect(client.messages[0]).toEqual({ type: 'pong' });
  });

  test('subscribe answers desktop_state with the role and only that desktop\'s runs, newest first', async () => {
    const first = await execute('first here', 'desk-state');
    await execute('elsewhere', 'desk-other');
    const second = await execute('second here', 'desk-state');
    const client = await subscribed();
    client.send({ type: 'subscribe', desktop_id: 'desk-state' });
    const state = await client.waitFor((m) => m.type === 'desktop_state');
    expect(state).toMatchObject({ desktop_id: 'desk-state', instance_role: 'dev' });
    expect((state.runs as Array<{ run_id: string }>).map((r) => r.run_id)).toEqual([second, first]);
  });

  test('desktop_state lists at most the 20 newest runs of the desktop', async () => {
    const runIds: string[] = [];
    for (let i = 0; i < 21; i += 1) runIds.push(await execute(`run ${i}`, 'desk-many'));
    const client = await subscribed();
    client.send({ type: 'subscribe', desktop_id: 'desk-many' });
    const state = await client.waitFor((m) => m.type === 'desktop_state');
    expect((state.runs as Array<{ run_id: string }>).map((r) => r.run_id)).toEqual(runIds.slice(1).reverse());
  });

  test('a frame up to 64 KiB is read (answered, the connection stays open)', async () => {
    const client = await subscribed();
    const before = client.messages.length;
    const frame = JSON.stringify({ type: 'subscribe', desktop_id: 'd'.repeat(64 * 1024 - 40) });
    expect(Buffer.byteLength(frame)).toBeLessThanOrEqual(64 * 1024);
    expect(Buffer.byteLength(frame)).toBeGreaterThan(64 * 1000);
    client.send(JSON.parse(frame) as WsMessage);
    await client.waitFor((m) => m.type === 'desktop_state' || m.type === 'error', { from: before });
    await settled(client);
  });

  test("a run's events go to every subscriber of its desktop (also one subscribed to several) and to no one else", async () => {
    const watcher = await subscribed('desk-a');
    const both = await subscribed('desk-b', 'desk-a');
    const bystander = await subscribed('desk-b');
    const unsubscribed = await subscribed();
    const runId = await execute('private to desk-a', 'desk-a');
    await watcher.waitFor((m) => m.type === 'conductor.run.started' && m.run_id === runId);
    await both.waitFor((m) => m.type === 'conductor.run.started' && m.run_id === runId);
    await Promise.all([settled(bystander), settled(unsubscribed)]);
    expect(bystander.messages.filter(ofRun(runId))).toEqual([]);
    expect(unsubscribed.messages.filter(ofRun(runId))).toEqual([]);
  });

  test("a client's close is told to the other subscribers of each of its desktops, and to no one else", async () => {
    const closing = await subscribed('desk-x', 'desk-y');
    const onX = await subscribed('desk-x');
    const onY = await subscribed('desk-y');
    const bystander = await subscribed('desk-z');
    closing.close(4100, 'leaving');
    expect(await onX.waitFor((m) => m.type === 'client_closed')).toEqual({ type: 'client_closed', desktop_id: 'desk-x', code: 4100, reason: 'leaving' });
    expect(await onY.waitFor((m) => m.type === 'client_closed')).toEqual({ type: 'client_closed', desktop_id: 'desk-y', code: 4100, reason: 'leaving' });
    await settled(bystander);
    expect(bystander.messages.filter((m) => m.type === 'client_closed')).toEqual([]);
  });

  test('close: the sandbox closes the asking connection with the code and reason it named, and only that one', async () => {
    const asking = await subscribed('desk-c');
    const other = await subscribed('desk-c');
    asking.send({ type: 'close', code: 4321, reason: 'asked by the client' });
    await vi.waitFor(() => expect(asking.closed).toEqual({ code: 4321, reason: 'asked by the client' }), { timeout: 10_000 });
    await settled(other);
    expect(other.isOpen).toBe(true);
  });

  test('a malformed frame, or a binary one, is answered with an error and the connection stays open', async () => {
    const client = await subscribed();
    client.send('{"type":"launch"}');
    expect((await client.waitFor((m) => m.type === 'error')).message).toMatch(/unknown message type "launch"/);
    const before = client.messages.length;
    client.sendBinary(Buffer.from('{"type":"ping"}'));
    expect((await client.waitFor((m) => m.type === 'error', { from: before })).message).toMatch(/binary frames are not understood: send JSON text/);
    await settled(client);
    expect(client.isOpen).toBe(true);
  });

  test('an upgrade on any path other than /ws is refused with 404', async () => {
    for (const path of ['/', '/ws/', '/wsx', '/health']) {
      const socket = new WebSocket(new URL(path, sandbox.url.replace(/^http/, 'ws')));
      const status = await new Promise<number | string>((resolve) => {
        socket.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        socket.once('open', () => resolve('opened'));
        socket.once('error', (error) => resolve(error.message));
      });
      socket.terminate();
      expect(status, path).toBe(404);
    }
  });
});
