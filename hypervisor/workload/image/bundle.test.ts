import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, test } from 'vitest';
import { bundleSandbox } from './bundle.ts';
import { nodeBinary } from './runtime-files.ts';

describe('the sandbox bundle the image runs', () => {
  test('runs on its own, away from node_modules: its dependencies are inside it and CommonJS require works (a refused start exits 78 naming the variable)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'choir-sandbox-bundle-'));
    try {
      const bundle = path.join(dir, 'sandbox.mjs');
      writeFileSync(bundle, await bundleSandbox());
      const started = await execa(nodeBinary(), [bundle], { cwd: dir, env: { PORT: 'not-a-port', CHOIROS_DATA_DIR: path.join(dir, 'data') }, extendEnv: false, reject: false, timeout: 30_000 });
      expect(started.exitCode, started.stderr).toBe(78);
      expect(started.stderr).toContain('PORT');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
