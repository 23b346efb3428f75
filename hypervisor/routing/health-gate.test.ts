import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { RoutingError } from './errors.ts';
import { httpHealthGate } from './health-gate.ts';

/** How one fake sandbox answers its health route and its smoke request. */
interface Answers {
  health: { status: number; body: string };
  runs: { status: number; body: string; type: string };
}

const healthy = { status: 200, body: JSON.stringify({ status: 'healthy', version: '0.4.2', instance_role: 'live' }) };
const runsOk = { status: 200, body: JSON.stringify({ runs: [] }), type: 'application/json' };
const servers: Server[] = [];

/** A sandbox-like server on a loopback port that answers as told. */
async function sandbox(answers: Answers): Promise<number> {
  const server = createServer((req, res) => {
    if (req.url === '/health') res.writeHead(answers.health.status, { 'content-type': 'application/json' }).end(answers.health.body);
    else if (req.url?.startsWith('/conductor/runs')) res.writeHead(answers.runs.status, { 'content-type': answers.runs.type }).end(answers.runs.body);
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  return (server.address() as AddressInfo).port;
}

let servingPort: number;

beforeAll(async () => {
  servingPort = await sandbox({ health: healthy, runs: runsOk });
});

afterAll(async () => {
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
});

// Long enough for a healthy test sandbox to answer on a loaded CI machine (400 ms was not); the
// never-healthy cases wait all of it.
const refusalDeadlineMs = 2_000;

async function refusal(port: number, smoke: boolean): Promise<RoutingError> {
  const error = await httpHealthGate(port, { deadlineMs: refusalDeadlineMs, smoke }).then(
    () => undefined,
    (failure: unknown) => failure,
  );
  expect(error).toBeInstanceOf(RoutingError);
  return error as RoutingError;
}

describe('health gate', () => {
  it('passes a sandbox answering "status":"healthy" and, with smoke, GET /conductor/runs with 200 JSON; reports what it answered', async () => {
    expect(await httpHealthGate(servingPort, { deadlineMs: 5_000, smoke: true })).toMatchObject({ version: '0.4.2', instanceRole: 'live', smoke: true });
    expect(await httpHealthGate(servingPort, { deadlineMs: 5_000 })).toMatchObject({ smoke: false });
  });

  it('refuses (health_check_failed, 422) a sandbox whose /health never says healthy within the deadline, naming port and deadline', async () => {
    for (const health of [{ status: 200, body: JSON.stringify({ status: 'starting' }) }, { status: 500, body: JSON.stringify({ status: 'healthy' }) }, { status: 200, body: 'healthy' }]) {
      const port = await sandbox({ health, runs: runsOk });
      const error = await refusal(port, false);
      expect(error.code).toBe('health_check_failed');
      expect(error.status).toBe(422);
      expect(error.message).toContain(`http://127.0.0.1:${port}/health`);
      expect(error.message).toContain(`${refusalDeadlineMs} ms`);
    }
  });

  it('with smoke, refuses a healthy sandbox whose GET /conductor/runs is not 200 JSON; without smoke, passes it', async () => {
    for (const runs of [
      { status: 500, body: JSON.stringify({ error: 'database locked' }), type: 'application/json' },
      { status: 200, body: '<html>not the API</html>', type: 'text/html' },
      { status: 404, body: JSON.stringify({ error: 'not found' }), type: 'application/json' },
      // Not an error status, but not the 200 the check asks for either.
      { status: 202, body: JSON.stringify({ queued: true }), type: 'application/json' },
    ]) {
      const port = await sandbox({ health: healthy, runs });
      const error = await refusal(port, true);
      expect(error.code).toBe('health_check_failed');
      expect(error.message).toContain(`GET http://127.0.0.1:${port}/conductor/runs`);
      expect(await httpHealthGate(port, { deadlineMs: 5_000, smoke: false })).toMatchObject({ smoke: false });
    }
  });
});
