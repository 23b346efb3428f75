import path from 'node:path';
import { writeFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { refusedStartExitCode, settingsOrRefusal } from './start-refusal.ts';
import { removeDataDir, tempDataDir } from './testing/sandbox-process.ts';

let root: string;

beforeEach(() => {
  root = tempDataDir();
});

afterEach(() => removeDataDir(root));

describe('whether the sandbox starts with its environment', () => {
  test('a refused start exits 78 (EX_CONFIG), as the workload README says', () => {
    expect(refusedStartExitCode).toBe(78);
  });

  test('a managed sandbox with a provider key is refused as a keyless violation naming the variable, whatever else is wrong', () => {
    const chosen = settingsOrRefusal({ CHOIR_SANDBOX_ROLE: 'live', OPENAI_API_KEY: 'sk-secret-value', PORT: 'not-a-port', CHOIROS_DATA_DIR: root });
    expect(chosen).toMatchObject({ refusal: { event: 'sandbox.keyless_violation', variables: ['OPENAI_API_KEY'] } });
    expect(JSON.stringify(chosen), 'the key itself is never repeated').not.toContain('sk-secret-value');
  });

  test('an invalid setting is refused naming it', () => {
    expect(settingsOrRefusal({ PORT: 'not-a-port', CHOIROS_DATA_DIR: root })).toMatchObject({ refusal: { event: 'sandbox.invalid_setting', variables: ['PORT'] } });
  });

  test('a data directory that cannot be made is refused naming it', () => {
    const blocker = path.join(root, 'a-file');
    writeFileSync(blocker, '');
    const chosen = settingsOrRefusal({ CHOIROS_DATA_DIR: path.join(blocker, 'data') });
    expect(chosen).toMatchObject({ refusal: { event: 'sandbox.data_dir_unwritable' } });
    expect('refusal' in chosen && chosen.refusal.message).toContain(path.join(blocker, 'data'));
  });

  test('a good environment gives the settings it names', () => {
    const chosen = settingsOrRefusal({ CHOIR_SANDBOX_ROLE: 'dev', PORT: '0', CHOIROS_DATA_DIR: path.join(root, 'data') });
    expect(chosen).toMatchObject({ settings: { role: 'dev', port: 0, dataDir: path.join(root, 'data') } });
  });
});
