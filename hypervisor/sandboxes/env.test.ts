import { describe, expect, it } from 'vitest';
import { sandboxDataDir } from './data-dir.ts';
import { assertSandboxConfig, sandboxEnv } from './env.ts';
import { parseImageUser } from './podman-runtime.ts';

describe('the sandbox environment allowlist', () => {
  it('holds exactly the contract variables and allowed release settings', () => {
    const env = sandboxEnv({ key: { userId: 'alice', role: 'dev' }, port: 8080, dataDir: '/data', config: { SANDBOX_CONDUCTOR_STEP_MS: '5' } });
    expect(env).toEqual({
      PORT: '8080',
      DATABASE_URL: 'sqlite:/data/sandbox.db',
      CHOIROS_DATA_DIR: '/data',
      CHOIR_SANDBOX_USER_ID: 'alice',
      CHOIR_SANDBOX_ROLE: 'dev',
      CHOIR_SANDBOX_ID: 'alice:dev',
      SANDBOX_CONDUCTOR_STEP_MS: '5',
    });
  });

  it('refuses a release setting that is not on the allowlist, naming it', () => {
    expect(() => assertSandboxConfig({ OPENAI_API_KEY: 'sk-1' })).toThrow(/sandbox config "OPENAI_API_KEY" is not allowed/);
    expect(() => assertSandboxConfig({ PORT: '1' })).toThrow(/"PORT" is not allowed/);
  });

  it('a release setting cannot override a contract variable', () => {
    expect(() => sandboxEnv({ key: { userId: 'a', role: 'live' }, port: 1, dataDir: '/d', config: { CHOIR_SANDBOX_USER_ID: 'b' } })).toThrow(/not allowed/);
  });
});

describe('sandbox data directories', () => {
  it('are <root>/<user>/<role> and refuse ids that would escape the root', () => {
    expect(sandboxDataDir('/srv/sb', { userId: 'alice', role: 'live' })).toBe('/srv/sb/alice/live');
    for (const userId of ['..', '../x', 'a/b', '.', '', 'A']) expect(() => sandboxDataDir('/srv/sb', { userId, role: 'live' })).toThrow(/user id/);
  });

  it("read the image's USER as the owner of the mounted directory", () => {
    expect(parseImageUser('1000:1000')).toEqual({ uid: 1000, gid: 1000 });
    expect(parseImageUser('1001')).toEqual({ uid: 1001, gid: 1001 });
    expect(parseImageUser('')).toBeUndefined();
    expect(parseImageUser('sandbox')).toBeUndefined();
  });
});
