import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { HostMachine } from './machine.ts';

/**
 * The owner host/reaper.test.ts kills: boots a machine, gives it a Nix profile rooting a store path
 * of its own (as the runbook's install does), prints what it made as one JSON line, then waits to
 * be killed without ever calling stop().
 */
const machine = await HostMachine.boot();
const scratch = await mkdtemp(path.join(tmpdir(), 'choiros-owner-to-kill-'));
const file = path.join(scratch, 'generation');
await writeFile(file, `a generation of ${machine.name}\n`);
const storePath = (await execa('nix-store', ['--add', file])).stdout.trim();
await rm(scratch, { recursive: true, force: true });
const profile = path.join(machine.profilesDir, 'choiros-hypervisor');
await execa('mkdir', ['-p', machine.profilesDir]);
await execa('nix-env', ['-p', profile, '--set', storePath]);
process.stdout.write(`${JSON.stringify({ name: machine.name, dir: machine.dir, profile, storePath })}\n`);
setInterval(() => undefined, 60_000);
