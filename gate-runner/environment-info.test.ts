import { chmod, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { collectEnvironmentInfo, writeAllureEnvironment } from './environment-info.ts';
import { tempDir } from './sample-run.ts';

describe('the environment a run records', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('writes one key=value line per field, a newline or backslash in a value escaped so it stays one property', async () => {
    const dir = await tempDir('environment-info');
    const file = await writeAllureEnvironment(dir, { target: 'prod', commit: 'abc (with uncommitted changes)', podman: 'unavailable (line one\nline two)', node: 'C:\\node' });
    expect(await readFile(file, 'utf8')).toBe('target=prod\ncommit=abc (with uncommitted changes)\npodman=unavailable (line one\\nline two)\nnode=C:\\\\node\n');
  });

  it('names the target by id and the commit with its dirty mark', async () => {
    const info = await collectEnvironmentInfo({ kind: 'local', id: 'local' }, { sha: 'abc', dirty: true });
    expect(info).toMatchObject({ target: 'local', commit: 'abc (with uncommitted changes)', node: process.version });
    expect(info.podman).not.toBe('');
  });

  it('escapes every newline and backslash in a value, not only the first', async () => {
    const dir = await tempDir('environment-info');
    const file = await writeAllureEnvironment(dir, { target: 'a\nb\nc', commit: 'x', podman: 'p', node: '\\\\share\\node' });
    expect(await readFile(file, 'utf8')).toBe('target=a\\nb\\nc\ncommit=x\npodman=p\nnode=\\\\\\\\share\\\\node\n');
  });

  it('writes environment.properties into the results directory, making it if the run has not yet', async () => {
    const dir = path.join(await tempDir('environment-info'), 'allure-results');
    const file = await writeAllureEnvironment(dir, { target: 't', commit: 'c', podman: 'p', node: 'n' });
    expect(file).toBe(path.join(dir, 'environment.properties'));
    expect(await readdir(dir)).toEqual(['environment.properties']);
  });

  it('names a deployed target by its id, and a podman that cannot answer as unavailable with the first line of why', async () => {
    const dir = await tempDir('environment-info');
    const broken = path.join(dir, 'podman');
    await writeFile(broken, '#!/bin/sh\necho "podman: storage is wedged" >&2\necho "second line of detail" >&2\nexit 125\n');
    await chmod(broken, 0o755);
    vi.stubEnv('SANDBOX_PODMAN_BINARY', broken);
    const info = await collectEnvironmentInfo({ kind: 'remote', id: 'https://choiros.example', url: 'https://choiros.example' }, { sha: 'abc', dirty: false });
    expect(info.target).toBe('https://choiros.example');
    expect(info.podman).toMatch(/^unavailable \([^\n]+\)$/);
  });
});
