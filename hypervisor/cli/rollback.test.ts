import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { rollback } from './rollback.ts';

/** What the loopback admin API answers next for `METHOD url`: a status and a JSON body. */
const answers = new Map<string, { status: number; body: unknown }>();
let server: Server;
let url: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const answer = answers.get(`${req.method ?? ''} ${req.url ?? ''}`) ?? { status: 404, body: { error: 'no answer' } };
      res.writeHead(answer.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

let stdout: string[];
let stderr: string[];

beforeEach(() => {
  answers.clear();
  stdout = [];
  stderr = [];
  vi.stubEnv('HYPERVISOR_URL', url);
  vi.stubEnv('HYPERVISOR_ADMIN_TOKEN', 'rollback-test-token');
  vi.spyOn(console, 'log').mockImplementation((text: string) => void stdout.push(text));
  vi.spyOn(console, 'error').mockImplementation((text: string) => void stderr.push(text));
});

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

const rolled = (user: string, drained: boolean) => ({ ok: true, user_id: user, main: 'dev', release: { id: 3 }, mode: 'warm', serving_after_ms: 40, drained });

describe('npm run hypervisor -- rollback', () => {
  it('--user: one line naming the slot, release, mode and time, and says when the old target did not drain in time', async () => {
    answers.set('POST /admin/sandboxes/alice/rollback', { status: 200, body: rolled('alice', false) });
    expect(await rollback.run(['--user', 'alice']), stderr.join('\n')).toBe(0);
    expect(stdout).toEqual(['rolled back alice: main -> dev slot, release 3 (warm), serving after 40 ms (old target did not drain in time)']);
  });

  it('--all: one line per user; none to roll back says so', async () => {
    answers.set('POST /admin/rollback', { status: 200, body: { results: [rolled('alice', true), rolled('bob', true)] } });
    expect(await rollback.run(['--all'])).toBe(0);
    expect(stdout.join('\n')).toBe('rolled back alice: main -> dev slot, release 3 (warm), serving after 40 ms\nrolled back bob: main -> dev slot, release 3 (warm), serving after 40 ms');
    answers.set('POST /admin/rollback', { status: 200, body: { results: [] } });
    stdout.length = 0;
    expect(await rollback.run(['--all'])).toBe(0);
    expect(stdout).toEqual(['no users to roll back']);
  });

  it('--all refused outright (not a 422 with every user): exit 1 with the reason, no user lines', async () => {
    answers.set('POST /admin/rollback', { status: 409, body: { error: 'a rollback is already running' } });
    expect(await rollback.run(['--all'])).toBe(1);
    expect(stderr.join('\n')).toContain('a rollback is already running');
    expect(stdout).toEqual([]);
  });
});
