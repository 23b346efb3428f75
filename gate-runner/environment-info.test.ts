import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { collectEnvironmentInfo, writeAllureEnvironment } from './environment-info.ts';
import { tempDir } from './sample-run.ts';

describe('the environment a run records', () => {
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
});
