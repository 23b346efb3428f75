import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProcessRuntime } from './process-runtime.ts';
import { processStartTime } from './proc.ts';
import { stagedEntryName, stagedRuntimesFolder } from './staged-runtime.ts';

let dataRoot: string;
const children: ChildProcess[] = [];

/**
 * A long-running process that looks like a sandbox from /proc: `entry` as its last argument (it
 * need not exist) and the sandbox variables in its environment.
 */
async function lookalike(entry: string, env: Record<string, string>): Promise<number> {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1e6)', entry], { env, stdio: 'ignore' });
  children.push(child);
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', reject);
  });
  return child.pid as number;
}

const sandboxVars = (dataDir: string, userId: string, role: string): Record<string, string> => ({ CHOIROS_DATA_DIR: dataDir, CHOIR_SANDBOX_USER_ID: userId, CHOIR_SANDBOX_ROLE: role });

beforeAll(() => {
  dataRoot = mkdtempSync(path.join(tmpdir(), 'choiros-find-'));
});

afterAll(async () => {
  await Promise.all(
    children.map(
      (child) =>
        new Promise((resolve) => {
          child.once('exit', resolve);
          child.kill('SIGKILL');
        }),
    ),
  );
  rmSync(dataRoot, { recursive: true, force: true });
});

describe('finding process sandboxes after a restart', () => {
  it("finds a staged sandbox of this data root by its environment, and nothing that only looks like one", async () => {
    const entry = (root: string, ...parts: string[]): string => path.join(root, stagedRuntimesFolder, ...parts);
    const sandbox = await lookalike(entry(dataRoot, 'v1', stagedEntryName), sandboxVars(path.join(dataRoot, 'alice', 'live'), 'alice', 'live'));
    const olderVersion = await lookalike(entry(dataRoot, 'v0', stagedEntryName), sandboxVars(path.join(dataRoot, 'alice', 'dev'), 'alice', 'dev'));
    // A sibling folder whose name starts with the data root's is another data root.
    await lookalike(entry(dataRoot, 'v1', stagedEntryName), sandboxVars(path.join(`${dataRoot}-other`, 'bob', 'live'), 'bob', 'live'));
    await lookalike(entry(`${dataRoot}-other`, 'v1', stagedEntryName), sandboxVars(path.join(dataRoot, 'carol', 'live'), 'carol', 'live'));
    await lookalike(entry(dataRoot, 'v1', 'nested', stagedEntryName), sandboxVars(path.join(dataRoot, 'dave', 'live'), 'dave', 'live'));
    // A sandbox.mjs beside the staged runtimes (in the data root, in a user's folder) is not a staged runtime.
    await lookalike(path.join(dataRoot, stagedEntryName), sandboxVars(path.join(dataRoot, 'ivan', 'live'), 'ivan', 'live'));
    await lookalike(path.join(dataRoot, 'judy', stagedEntryName), sandboxVars(path.join(dataRoot, 'judy', 'live'), 'judy', 'live'));
    await lookalike(entry(dataRoot, 'v1', 'main.mjs'), sandboxVars(path.join(dataRoot, 'erin', 'live'), 'erin', 'live'));
    await lookalike(entry(dataRoot, 'v1', stagedEntryName), sandboxVars(path.join(dataRoot, 'Frank', 'live'), 'Frank', 'live'));
    await lookalike(entry(dataRoot, 'v1', stagedEntryName), sandboxVars(path.join(dataRoot, 'gina', 'prod'), 'gina', 'prod'));
    await lookalike(entry(dataRoot, 'v1', stagedEntryName), { CHOIROS_DATA_DIR: path.join(dataRoot, 'hal', 'live'), CHOIR_SANDBOX_ROLE: 'live' });

    const found = await new ProcessRuntime({ dataRoot, runAs: null }).find();
    expect(found.sort((a, b) => a.key.role.localeCompare(b.key.role))).toEqual([
      { key: { userId: 'alice', role: 'dev' }, running: true, containerId: null, pid: olderVersion, pidStart: processStartTime(olderVersion), image: null },
      { key: { userId: 'alice', role: 'live' }, running: true, containerId: null, pid: sandbox, pidStart: processStartTime(sandbox), image: null },
    ]);
  });
});
