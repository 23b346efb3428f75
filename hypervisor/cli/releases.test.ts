import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { releases } from './releases.ts';

/** What the loopback admin API received: `METHOD url` and the JSON body. */
const received: { request: string; body: unknown }[] = [];
const answers = new Map<string, unknown>();
let server: Server;
let url: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    let text = '';
    req.on('data', (chunk: Buffer) => (text += String(chunk)));
    req.on('end', () => {
      const request = `${req.method ?? ''} ${req.url ?? ''}`;
      received.push({ request, body: text ? (JSON.parse(text) as unknown) : undefined });
      const answer = answers.get(request);
      res.writeHead(answer === undefined ? 404 : 200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(answer ?? { error: `no answer for ${request}` }));
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
  received.length = 0;
  answers.clear();
  stdout = [];
  stderr = [];
  vi.stubEnv('HYPERVISOR_URL', url);
  vi.stubEnv('HYPERVISOR_ADMIN_TOKEN', 'releases-test-token');
  vi.spyOn(console, 'log').mockImplementation((text: string) => void stdout.push(text));
  vi.spyOn(console, 'error').mockImplementation((text: string) => void stderr.push(text));
});

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

const created = { id: 8, runtime: 'podman', image_ref: 'localhost/choir-sandbox:0.3.0', image: 'sha256:0123456789abcdef', revision: 'abc', status: 'ready', known_good: false, retained: false };

describe('npm run hypervisor -- releases', () => {
  it('create: each --config NAME=VALUE into the config (a value may hold "=" or be empty), with the image and note', async () => {
    answers.set('POST /admin/releases', created);
    const args = ['create', '--runtime', 'podman', '--image', 'localhost/choir-sandbox:0.3.0', '--config', 'GREETING=a=b', '--config', 'EMPTY=', '--note', 'nightly'];
    expect(await releases.run(args), stderr.join('\n')).toBe(0);
    expect(received).toEqual([{ request: 'POST /admin/releases', body: { runtime: 'podman', config: { GREETING: 'a=b', EMPTY: '' }, image: 'localhost/choir-sandbox:0.3.0', note: 'nightly' } }]);
    expect(stdout.join('\n')).toBe('created release 8: podman localhost/choir-sandbox:0.3.0 (image sha256:01234, revision abc)');
  });

  it.each([['=value'], ['NO_VALUE']])('create --config %s is refused with exit 2, naming it, before any admin call', async (pair) => {
    expect(await releases.run(['create', '--runtime', 'podman', '--config', pair])).toBe(2);
    expect(stderr.join('\n')).toContain(`--config takes NAME=VALUE, got ${JSON.stringify(pair)}`);
    expect(stderr.join('\n')).toContain('usage: npm run hypervisor -- releases');
    expect(received).toEqual([]);
  });

  it('an unknown action is refused with exit 2, naming it, before any admin call', async () => {
    expect(await releases.run(['delete', '--release', '3'])).toBe(2);
    expect(stderr.join('\n')).toContain('unknown releases action "delete"');
    expect(received).toEqual([]);
  });

  it('prune: how many images went and stayed, and each release that could not be pruned with its error', async () => {
    answers.set('POST /admin/releases/prune', { removed: [{ release: 3 }], kept: [{ release: 5 }, { release: 6 }], failed: [{ release: 4, error: 'image is in use by a container' }] });
    await releases.run(['prune']);
    expect(stdout.join('\n')).toBe('pruned 1 release image(s), kept 2, failed:\n  release 4: image is in use by a container');
  });

  it('with --json prints the admin answer itself', async () => {
    answers.set('GET /admin/releases', { releases: [created], retained: [] });
    expect(await releases.run(['--json'])).toBe(0);
    expect(JSON.parse(stdout.join('\n'))).toEqual({ releases: [created], retained: [] });
  });
});
