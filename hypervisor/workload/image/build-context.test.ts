import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digestLabel, gatherImageInputs, sandboxUser, writeBuildContext, type ImageInputs } from './build-context.ts';

let dir: string;
let inputs: ImageInputs;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'choiros-build-context-'));
  inputs = await gatherImageInputs({ version: '9.8.7', revision: 'abc123' });
  await writeBuildContext(dir, inputs);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const mode = (...parts: string[]): number => statSync(path.join(dir, ...parts)).mode & 0o7777;

describe("the sandbox image's build context", () => {
  it('is fingerprinted by what goes in: the same sources give the same digest, another version another', async () => {
    expect(inputs.digest).toMatch(/^[0-9a-f]{32}$/);
    expect((await gatherImageInputs({ version: '9.8.7', revision: 'abc123' })).digest).toBe(inputs.digest);
    expect((await gatherImageInputs({ version: '9.8.8', revision: 'abc123' })).digest).not.toBe(inputs.digest);
  });

  it('runs Node on the bundle as the unprivileged sandbox user in /data, on port 8080 of every interface of the container, labelled with its digest', () => {
    const containerfile = readFileSync(path.join(dir, 'Containerfile'), 'utf8');
    expect(sandboxUser).toEqual({ uid: 1000, gid: 1000, name: 'sandbox' });
    expect(containerfile).toContain('\nUSER 1000:1000\n');
    expect(containerfile).toContain('\nWORKDIR /data\n');
    expect(containerfile).toContain('COPY --chown=1000:1000 data/ /data/');
    expect(containerfile).toContain('ENTRYPOINT ["/usr/local/bin/node", "/app/sandbox.mjs"]');
    expect(containerfile).toMatch(/^ENV .*\bPORT=8080 SANDBOX_HOST=0\.0\.0\.0 CHOIROS_DATA_DIR=\/data DATABASE_URL=sqlite:\/data\/sandbox\.db .*SANDBOX_VERSION=9\.8\.7$/m);
    expect(containerfile).toContain('org.opencontainers.image.version="9.8.7" org.opencontainers.image.revision="abc123"');
    expect(containerfile.trimEnd().split('\n').at(-1)).toBe(`LABEL ${digestLabel}="${inputs.digest}"`);
    expect(readFileSync(path.join(dir, 'app', 'sandbox.mjs'))).toEqual(Buffer.from(inputs.bundle));
  });

  it('names the sandbox user in /etc/passwd and /etc/group, gives it a /tmp anyone may write but nobody may clear, and a runnable Node', () => {
    expect(readFileSync(path.join(dir, 'runtime', 'etc', 'passwd'), 'utf8').split('\n')).toContain('sandbox:x:1000:1000:ChoirOS sandbox:/data:/sbin/nologin');
    expect(readFileSync(path.join(dir, 'runtime', 'etc', 'group'), 'utf8').split('\n')).toContain('sandbox:x:1000:');
    expect(mode('runtime', 'tmp')).toBe(0o1777);
    expect(mode('runtime', 'usr', 'local', 'bin', 'node')).toBe(0o755);
    for (const library of inputs.libraries) expect(statSync(path.join(dir, 'runtime', library.imagePath)).size, library.imagePath).toBe(statSync(library.hostPath).size);
  });
});
