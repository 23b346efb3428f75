import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runGateLines } from './gate-lines.ts';
import { InterruptedError, interruptedExitCode, Interruption } from './interruption.ts';
import { processAlive } from '../hypervisor/process-alive.ts';

/**
 * A stand-in for Playwright's CLI, run as a real process: it says it started, and on SIGINT takes a
 * while to tear down (as Playwright's fixtures do), writing into the directory it runs in on the way
 * out, the way a Playwright run writes into the scratch copy until it exits.
 */
const playwrightLike = `
const fs = require('node:fs');
process.on('SIGINT', () => {
  fs.appendFileSync('signals', 'SIGINT\\n');
  setTimeout(() => { fs.writeFileSync('torn-down', 'yes'); process.exit(0); }, 400);
});
// Only once the handler is in place: a SIGINT before it would kill the process outright.
fs.writeFileSync('started', String(process.pid));
setInterval(() => {}, 1000);
`;

/** Ignores SIGINT, and has a child of its own in its process group (a Playwright worker). */
const stubborn = `
const { spawn } = require('node:child_process');
const fs = require('node:fs');
process.on('SIGINT', () => fs.appendFileSync('signals', 'SIGINT (ignored)\\n'));
const worker = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
fs.writeFileSync('started', String(worker.pid));
setInterval(() => {}, 1000);
`;

async function until(check: () => boolean): Promise<void> {
  while (!check()) await sleep(25);
}

describe('stopping the Playwright child when integrity is interrupted', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'choiros-interruption-test-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('asks the child once with SIGINT, resolves only after it has torn down and exited, then lets nothing new start', async () => {
    const child = spawn(process.execPath, ['-e', playwrightLike], { cwd: dir, detached: true, stdio: 'ignore' });
    const exited = once(child, 'exit');
    const interruption = new Interruption({ graceMs: 60_000 });
    interruption.track(child, exited);
    await until(() => existsSync(path.join(dir, 'started')));

    await interruption.interrupt('SIGTERM');
    expect(existsSync(path.join(dir, 'torn-down')), 'the child finished its teardown before interrupt() resolved').toBe(true);
    expect(child.exitCode).toBe(0);
    expect(await readFile(path.join(dir, 'signals'), 'utf8')).toBe('SIGINT\n');

    expect(interruption.signal).toBe('SIGTERM');
    expect(() => interruption.check()).toThrow(InterruptedError);
    expect(() => interruption.track(child, exited)).toThrow('interrupted by SIGTERM');
    expect(interruptedExitCode('SIGTERM')).toBe(143);
    expect(interruptedExitCode('SIGINT')).toBe(130);
  });

  it('kills the process group of a child that does not stop within the grace period', async () => {
    const child = spawn(process.execPath, ['-e', stubborn], { cwd: dir, detached: true, stdio: 'ignore' });
    const exited = once(child, 'exit');
    const interruption = new Interruption({ graceMs: 500 });
    interruption.track(child, exited);
    await until(() => existsSync(path.join(dir, 'started')));
    const worker = Number(await readFile(path.join(dir, 'started'), 'utf8'));

    await interruption.interrupt('SIGINT');
    expect(child.signalCode).toBe('SIGKILL');
    expect(await readFile(path.join(dir, 'signals'), 'utf8')).toBe('SIGINT (ignored)\n');
    // The worker was in the child's group: killed with it, not left behind.
    await until(() => !processAlive(worker));
  });

  it('runGateLines, interrupted, returns no outcomes but InterruptedError, and only after its child has exited', async () => {
    // A scratch copy whose Playwright CLI is the stand-in above.
    const repo = path.join(dir, 'repo');
    const cli = path.join(repo, 'node_modules', '@playwright', 'test');
    await mkdir(cli, { recursive: true });
    await writeFile(path.join(cli, 'cli.js'), playwrightLike);
    const interruption = new Interruption({ graceMs: 60_000 });
    const running = runGateLines({ repo, logDir: dir, project: 'phase1', titles: ['A line.'], label: 'interrupted', env: { PATH: process.env.PATH ?? '/usr/bin:/bin' }, interruption });
    const settled = running.then(
      () => 'returned outcomes',
      (error: unknown) => error,
    );
    await until(() => existsSync(path.join(repo, 'started')));

    void interruption.interrupt('SIGINT');
    const outcome = await settled;
    expect(outcome).toBeInstanceOf(InterruptedError);
    expect(existsSync(path.join(repo, 'torn-down')), 'the child had torn down when runGateLines gave up').toBe(true);
    expect(processAlive(Number(await readFile(path.join(repo, 'started'), 'utf8')))).toBe(false);
    await expect(runGateLines({ repo, logDir: dir, project: 'phase1', titles: ['A line.'], label: 'after', env: {}, interruption })).rejects.toThrow(InterruptedError);
  });
});
