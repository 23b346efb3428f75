import { createServer, type AddressInfo } from 'node:net';
import { describe, expect, it, vi } from 'vitest';
import { deploy } from './deploy.ts';
import { pointers } from './pointers.ts';
import { cliInProcess } from './testing/cli-in-process.ts';

const cli = cliInProcess('admin-errors-test-token');
const { stdout, stderr } = cli;

/** An address where nothing listens: a port the system handed out, then closed again. */
async function unusedUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return `http://127.0.0.1:${port}`;
}

describe('an admin API that fails the CLI: exit 1, the reason on stderr, nothing on stdout', () => {
  it('a 5xx whose body is not JSON (a proxy in front): its status and its text', async () => {
    cli.api.answers.set('POST /admin/sandboxes/alice/deploy', { status: 502, body: 'upstream hypervisor is restarting' });
    expect(await deploy.run(['--user', 'alice', '--release', '4', '--json'])).toBe(1);
    expect(stderr.join('\n')).toContain('POST /admin/sandboxes/alice/deploy answered 502: "upstream hypervisor is restarting"');
    expect(stdout).toEqual([]);
  });

  it('a refusal of the second call (the switch history): exit 1, and the pointers already read are not printed', async () => {
    cli.api.answers.set('GET /admin/sandboxes/alice/pointers', { body: { user_id: 'alice', main: 'live', dev: 'dev', updated_at: null, slots: { live: null, dev: null } } });
    cli.api.answers.set('GET /admin/sandboxes/alice/switches?limit=0', { status: 400, body: { error: 'limit must be a whole number from 1 to 1000' } });
    expect(await pointers.run(['--user', 'alice', '--history', '0'])).toBe(1);
    expect(stderr.join('\n')).toContain('answered 400: limit must be a whole number from 1 to 1000');
    expect(stdout).toEqual([]);
  });

  it('nothing listening at HYPERVISOR_URL: naming the address and the variable to set', async () => {
    const url = await unusedUrl();
    vi.stubEnv('HYPERVISOR_URL', url);
    expect(await pointers.run(['--user', 'alice'])).toBe(1);
    expect(stderr.join('\n')).toContain(`hypervisor: cannot reach the hypervisor at ${url}`);
    expect(stderr.join('\n')).toContain('Set HYPERVISOR_URL');
    expect(stdout).toEqual([]);
  });
});
