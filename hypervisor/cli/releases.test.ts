import { describe, expect, it } from 'vitest';
import { cliInProcess } from './testing/cli-in-process.ts';
import { releases } from './releases.ts';

const cli = cliInProcess('releases-test-token');
const { stdout, stderr } = cli;

const created = { id: 8, runtime: 'podman', image_ref: 'localhost/choir-sandbox:0.3.0', image: 'sha256:0123456789abcdef', revision: 'abc', status: 'ready', known_good: false, retained: false };

describe('npm run hypervisor -- releases', () => {
  it('create: each --config NAME=VALUE into the config (a value may hold "=" or be empty), with the image and note', async () => {
    cli.api.answers.set('POST /admin/releases', { body: created });
    const args = ['create', '--runtime', 'podman', '--image', 'localhost/choir-sandbox:0.3.0', '--config', 'GREETING=a=b', '--config', 'EMPTY=', '--note', 'nightly'];
    expect(await releases.run(args), stderr.join('\n')).toBe(0);
    expect(cli.api.received.map((r) => ({ request: r.request, body: r.body }))).toEqual([{ request: 'POST /admin/releases', body: { runtime: 'podman', config: { GREETING: 'a=b', EMPTY: '' }, image: 'localhost/choir-sandbox:0.3.0', note: 'nightly' } }]);
    expect(stdout.join('\n')).toBe('created release 8: podman localhost/choir-sandbox:0.3.0 (image sha256:01234, revision abc)');
  });

  it('create: a --config value is taken as given, spaces included; an image the answer leaves empty (process runtime) prints as "-"', async () => {
    cli.api.answers.set('POST /admin/releases', { body: { ...created, runtime: 'process', image_ref: 'process', image: '', revision: null } });
    expect(await releases.run(['create', '--runtime', 'process', '--config', 'GREETING= hello there ']), stderr.join('\n')).toBe(0);
    expect(cli.api.received[0]?.body).toEqual({ runtime: 'process', config: { GREETING: ' hello there ' } });
    expect(stdout.join('\n')).toBe('created release 8: process process (image -, revision unknown)');
  });

  it.each([['=value'], ['NO_VALUE']])('create --config %s is refused with exit 2, naming it, before any admin call', async (pair) => {
    expect(await releases.run(['create', '--runtime', 'podman', '--config', pair])).toBe(2);
    expect(stderr.join('\n')).toContain(`--config takes NAME=VALUE, got ${JSON.stringify(pair)}`);
    expect(stderr.join('\n')).toContain('usage: npm run hypervisor -- releases');
    expect(cli.api.received.map((r) => ({ request: r.request, body: r.body }))).toEqual([]);
  });

  it('an unknown action is refused with exit 2, naming it, before any admin call', async () => {
    expect(await releases.run(['delete', '--release', '3'])).toBe(2);
    expect(stderr.join('\n')).toContain('unknown releases action "delete"');
    expect(cli.api.received.map((r) => ({ request: r.request, body: r.body }))).toEqual([]);
  });

  it('prune: how many images went and stayed, and each release that could not be pruned with its error', async () => {
    cli.api.answers.set('POST /admin/releases/prune', { body: { removed: [{ release: 3 }], kept: [{ release: 5 }, { release: 6 }], failed: [{ release: 4, error: 'image is in use by a container' }] } });
    await releases.run(['prune']);
    expect(stdout.join('\n')).toBe('pruned 1 release image(s), kept 2, failed:\n  release 4: image is in use by a container');
  });

  it('with --json prints the admin answer itself', async () => {
    cli.api.answers.set('GET /admin/releases', { body: { releases: [created], retained: [] } });
    expect(await releases.run(['--json'])).toBe(0);
    expect(JSON.parse(stdout.join('\n'))).toEqual({ releases: [created], retained: [] });
  });
});
