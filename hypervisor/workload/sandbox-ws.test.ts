import { afterAll, afterEach, beforeAll, describe, expect, test, vi } from 'vitest';
import { fetch } from 'undici';
import { removeDataDir, startSandboxProcess, type SandboxProcess } from './testing/sandbox-process.ts';
import { WsClient, type WsMessage } from './testing/ws-client.ts';

let sandbox: SandboxProcess;
const clients: WsClient[] = [];

beforeAll(async () => {
  sandbox = await startSandboxProcess({ env: { CHOIR_SANDBOX_ROLE: 'live', SANDBOX_CONDUCTOR_STEP_MS: '20' } });
});

afterEach(() => {
  for (const client of clients.splice(0)) client.close();
});

afterAll(async () => {
  await sandbox?.stop();
  if (sandbox) removeDataDir(sandbox.dataDir);
});

async function connect(): Promise<WsClient> {
  const client = await WsClient.connect(sandbox.url);
  clients.push(client);
  return client;
}

async function subscribed(desktopId: string): Promise<WsClient> {
  const client = await connect();
  client.send({ type: 'subscribe', desktop_id: desktopId });
  await client.waitFor((m) => m.type === 'desktop_state');
  return client;
}

async function execute(objective: string, desktopId: string): Promise<string> {
  const response = await fetch(`${sandbox.url}/conductor/execute`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ objective, desktop_id: desktopId }) });
  return ((await response.json()) as { run_id: string }).run_id;
}

const ofRun = (runId: string) => (m: WsMessage) => m.run_id === runId;

describe('sandbox WebSocket /ws (child process)', () => {
  test('the server sends pong on connect, and pong for each ping', async () => {
    const client = await connect();
    await client.waitFor((m) => m.type === 'pong');
    const before = client.messages.length;
    client.send({ type: 'ping' });
    await client.waitFor((m) => m.type === 'pong', { from: before });
  });

  test('subscribe answers desktop_state with that desktop and its runs', async () => {
    const runId = await execute('earlier work', 'desk-state');
    const client = await connect();
    client.send({ type: 'subscribe', desktop_id: 'desk-state' });
    const state = await client.waitFor((m) => m.type === 'desktop_state');
    expect(state).toMatchObject({ desktop_id: 'desk-state', instance_role: 'live' });
    expect((state.runs as Array<{ run_id: string }>).map((r) => r.run_id)).toContain(runId);
  });

  test("a task's progress arrives as conductor.run events: started, progress through running and completing, completed", async () => {
    const client = await subscribed('desk-flow');
    const runId = await execute('Watch this task over the socket', 'desk-flow');
    const completed = await client.waitFor((m) => m.type === 'conductor.run.completed' && m.run_id === runId);
    expect(completed.status).toBe('completed');
    expect(completed.document_path).toMatch(/^documents\/watch-this-task-over-the-socket-/);

    const events = client.messages.filter(ofRun(runId));
    expect(events.map((e) => `${e.type}:${String(e.status)}`)).toEqual([
      'conductor.run.started:initializing',
      'conductor.run.progress:running',
      'conductor.run.progress:running',
      'conductor.run.progress:running',
      'conductor.run.progress:running',
      'conductor.run.progress:completing',
      'conductor.run.completed:completed',
    ]);
    const steps = events.filter((e) => e.type === 'conductor.run.progress').map((e) => e.step as { index: number; total: number; name: string });
    expect(steps.map((s) => s.index)).toEqual([1, 2, 3, 4, 4]);
    expect(steps.every((s) => s.total === 4 && s.name.length > 0)).toBe(true);
  });

  test("events go only to clients subscribed to the run's desktop", async () => {
    const watcher = await subscribed('desk-a');
    const bystander = await subscribed('desk-b');
    const runId = await execute('private to desk-a', 'desk-a');
    await watcher.waitFor((m) => m.type === 'conductor.run.completed' && m.run_id === runId);
    expect(bystander.messages.filter(ofRun(runId))).toEqual([]);
  });

  test.each([
    ['text that is not JSON', 'hello', /not valid JSON/],
    ['a JSON value that is not an object', '[1,2]', /must be a JSON object/],
    ['an object without a type', '{"desktop_id":"d"}', /needs a string "type"/],
    ['an unknown type', '{"type":"launch"}', /unknown message type "launch"/],
    ['subscribe without desktop_id', '{"type":"subscribe"}', /subscribe needs desktop_id/],
    ['close with a reserved code', '{"type":"close","code":1006}', /close needs code, 1000 or an integer from 3000 to 4999/],
    ['close with a reason past 123 bytes', `{"type":"close","code":4000,"reason":"${'x'.repeat(124)}"}`, /at most 123 bytes/],
  ])('a frame with %s gets an error naming what was wrong, and the connection stays open', async (_name, frame, message) => {
    const client = await connect();
    await client.waitFor((m) => m.type === 'pong');
    client.send(frame);
    const error = await client.waitFor((m) => m.type === 'error');
    expect(error.message).toMatch(message);
    const before = client.messages.length;
    client.send({ type: 'ping' });
    await client.waitFor((m) => m.type === 'pong', { from: before });
    expect(client.isOpen).toBe(true);
  });

  test('close: the sandbox closes the asking connection with the code and reason it named', async () => {
    const client = await connect();
    await client.waitFor((m) => m.type === 'pong');
    client.send({ type: 'close', code: 4321, reason: 'asked by the client' });
    await vi.waitFor(() => expect(client.closed).toEqual({ code: 4321, reason: 'asked by the client' }), { timeout: 10_000 });
  });

  test("a client's close code and reason are told to the other subscribers of its desktop, and to no one else", async () => {
    const closing = await subscribed('desk-close');
    const watcher = await subscribed('desk-close');
    const bystander = await subscribed('desk-elsewhere');
    closing.close(4004, 'closed by the client');
    expect(await watcher.waitFor((m) => m.type === 'client_closed')).toEqual({ type: 'client_closed', desktop_id: 'desk-close', code: 4004, reason: 'closed by the client' });
    const before = bystander.messages.length;
    bystander.send({ type: 'ping' });
    await bystander.waitFor((m) => m.type === 'pong', { from: before });
    expect(bystander.messages.filter((m) => m.type === 'client_closed')).toEqual([]);
  });

  test('received: answers what the upgrade request carried, credentials as present/absent only, the identity headers as sent', async () => {
    const client = await WsClient.connect(sandbox.url, { cookie: 'choiros_session=secret', 'x-choiros-user-id': 'u-ws', 'x-choiros-sandbox-role': 'dev' });
    clients.push(client);
    client.send({ type: 'received' });
    expect(await client.waitFor((m) => m.type === 'received')).toEqual({
      type: 'received',
      credentials: { cookie: 'present', authorization: 'absent', 'proxy-authorization': 'absent' },
      identity: { 'x-choiros-user-id': 'u-ws', 'x-choiros-sandbox-role': 'dev' },
      forwarding: { 'x-forwarded-for': null, 'x-forwarded-proto': null, 'x-forwarded-host': null, forwarded: null, 'x-real-ip': null },
    });
    const bare = await connect();
    bare.send({ type: 'received' });
    expect(await bare.waitFor((m) => m.type === 'received')).toMatchObject({ credentials: { cookie: 'absent' }, identity: { 'x-choiros-user-id': null, 'x-choiros-sandbox-role': null } });
  });

  test('a binary frame gets an error asking for JSON text', async () => {
    const client = await connect();
    client.sendBinary(Buffer.from([1, 2, 3]));
    const error = await client.waitFor((m) => m.type === 'error');
    expect(error.message).toMatch(/binary frames are not understood/);
    expect(client.isOpen).toBe(true);
  });
});
