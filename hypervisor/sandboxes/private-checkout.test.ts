import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, linkSync, mkdirSync, mkdtempSync, readdirSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { hypervisorEnv, removeDir, spawnHypervisor, uniqueUser, type ChildHypervisor } from '../../fixtures/test-hypervisor.ts';
import { repoRoot } from '../paths.ts';

interface SandboxView {
  status: string;
  port: number;
  pid: number;
  last_error?: string | null;
}

/**
 * This checkout as a user gets it by cloning into a private directory (root's 0700 home, a
 * `mktemp -d`): its files copied, its Node binary inside it. Packages are symlinked to this
 * checkout's (installing them again would cost a minute and prove nothing more); Node itself is a
 * real file inside, as `npm install` puts it.
 */
function privateCheckout(home: string): { checkout: string; node: string } {
  const checkout = path.join(home, 'checkout');
  const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], { cwd: repoRoot, encoding: 'utf8' }).split('\0').filter(Boolean);
  for (const file of files) {
    let info;
    try {
      info = statSync(path.join(repoRoot, file));
    } catch {
      continue; // deleted in the working tree
    }
    if (!info.isFile()) continue;
    mkdirSync(path.dirname(path.join(checkout, file)), { recursive: true });
    copyFileSync(path.join(repoRoot, file), path.join(checkout, file));
  }
  const modules = path.join(checkout, 'node_modules');
  mkdirSync(path.join(modules, 'node', 'bin'), { recursive: true });
  for (const entry of readdirSync(path.join(repoRoot, 'node_modules'))) {
    if (entry !== 'node') symlinkSync(path.join(repoRoot, 'node_modules', entry), path.join(modules, entry));
  }
  const node = path.join(modules, 'node', 'bin', 'node');
  try {
    linkSync(process.execPath, node);
  } catch {
    copyFileSync(process.execPath, node);
  }
  return { checkout, node };
}

describe('process runtime from a checkout under a private (0700) directory', () => {
  const cleanups: Array<() => void | Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('as root, starts and serves a process sandbox: the sandbox user needs nothing from inside the checkout', async () => {
    expect(process.getuid?.(), 'this test needs a root hypervisor, as on the project hosts').toBe(0);
    const home = mkdtempSync(path.join(tmpdir(), 'choiros-private-home-'));
    cleanups.push(() => removeDir(home));
    chmodSync(home, 0o700);
    const { checkout, node } = privateCheckout(home);
    const { dir, env } = hypervisorEnv();
    cleanups.push(() => removeDir(dir));

    const hypervisor: ChildHypervisor = await spawnHypervisor(env, { node, main: path.join(checkout, 'hypervisor', 'main.ts') });
    cleanups.push(async () => {
      hypervisor.child.kill('SIGTERM');
      await hypervisor.exited;
    });
    const user = uniqueUser('home');
    const started = await hypervisor.admin<SandboxView>('POST', `/admin/sandboxes/${user}/live/start`);
    cleanups.push(async () => void (await hypervisor.admin('POST', `/admin/sandboxes/${user}/live/stop`)));
    expect(started.status, JSON.stringify(started.body)).toBe(200);
    expect(started.body.status).toBe('running');
    const desktop = await request(`http://127.0.0.1:${started.body.port}/`);
    expect(desktop.statusCode).toBe(200);
    expect(await desktop.body.text()).toMatch(/ChoirOS desktop/);
    expect(statSync(home).mode & 0o777).toBe(0o700);
  });
});
