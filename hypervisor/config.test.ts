import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, withListeningPort, type Env } from './config.ts';

const scratch = (): string => mkdtempSync(path.join(tmpdir(), 'choiros-config-'));

/** A valid environment in a fresh directory; tests change one variable at a time. */
function baseEnv(overrides: Env = {}): Env {
  const dir = scratch();
  return {
    HYPERVISOR_DATABASE_URL: `sqlite:${path.join(dir, 'h.db')}`,
    SANDBOX_DATA_ROOT: path.join(dir, 'sandboxes'),
    HYPERVISOR_ADMIN_TOKEN: 'a-long-enough-admin-token',
    ...overrides,
  };
}

function configError(env: Env): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('loadConfig accepted the environment');
}

describe('hypervisor configuration', () => {
  it('uses the contract defaults when nothing is set', () => {
    const config = loadConfig(baseEnv());
    expect(config.server).toMatchObject({ host: '127.0.0.1', port: 9090 });
    expect(config.sandboxes).toMatchObject({ runtime: 'process', image: 'choir-sandbox:latest', podmanBinary: 'podman', idleTimeoutSecs: 1800 });
    expect(config.webauthn).toEqual({ rpId: 'localhost', rpName: 'ChoirOS', rpOrigin: 'http://localhost:9090', rpOriginIsDefault: true });
    expect(config.sandboxes.instanceId).toMatch(/^[0-9a-f]{12}$/);
  });

  it('keeps its database at ./data/hypervisor.db and sandbox data under ./data/sandboxes when neither is set (the contract defaults), resolved from where it starts', () => {
    const config = loadConfig({ HYPERVISOR_ADMIN_TOKEN: 'a-long-enough-admin-token' });
    expect(config.store.databaseUrl).toBe(`sqlite:${path.resolve('data', 'hypervisor.db')}`);
    expect(config.store.stateDir).toBe(path.resolve('data'));
    expect(config.sandboxes.dataRoot).toBe(path.resolve('data', 'sandboxes'));
  });

  it('reads every variable it documents', () => {
    const config = loadConfig(
      baseEnv({
        HYPERVISOR_PORT: '0',
        HYPERVISOR_HOST: '127.0.0.2',
        SANDBOX_RUNTIME: 'podman',
        SANDBOX_CONTAINER_IMAGE: 'localhost/choir-sandbox:0.1.0',
        SANDBOX_PODMAN_BINARY: '/usr/bin/podman',
        SANDBOX_IDLE_TIMEOUT_SECS: '0',
        WEBAUTHN_RP_ID: 'choir.example.com',
        WEBAUTHN_RP_ORIGIN: 'https://choir.example.com',
        WEBAUTHN_RP_NAME: 'Choir',
      }),
    );
    expect(config.server).toMatchObject({ host: '127.0.0.2', port: 0 });
    expect(config.sandboxes).toMatchObject({ runtime: 'podman', image: 'localhost/choir-sandbox:0.1.0', podmanBinary: '/usr/bin/podman', idleTimeoutSecs: 0 });
    expect(config.webauthn).toMatchObject({ rpId: 'choir.example.com', rpOrigin: 'https://choir.example.com', rpName: 'Choir', rpOriginIsDefault: false });
  });

  // A browser's address bar shows the origin with a slash after it; pasted so, it is still the origin (without the slash, as browsers send Origin).
  it('takes WEBAUTHN_RP_ORIGIN written with a trailing slash, as the origin without it', () => {
    expect(loadConfig(baseEnv({ WEBAUTHN_RP_ID: 'choir.example.com', WEBAUTHN_RP_ORIGIN: 'https://choir.example.com/' })).webauthn.rpOrigin).toBe('https://choir.example.com');
  });

  it.each([
    ['HYPERVISOR_PORT', 'http', /HYPERVISOR_PORT="http" is invalid: use a whole number from 0 to 65535/],
    ['HYPERVISOR_PORT', '70000', /HYPERVISOR_PORT="70000" is invalid/],
    ['HYPERVISOR_HOST', 'not a host', /HYPERVISOR_HOST="not a host" is invalid: use an IP address or host name/],
    ['HYPERVISOR_DATABASE_URL', 'postgres://db/x', /HYPERVISOR_DATABASE_URL="postgres:\/\/db\/x" is invalid: use sqlite:PATH/],
    // sqlite: must begin the URL, not merely appear in it.
    ['HYPERVISOR_DATABASE_URL', 'file:sqlite:x.db', /HYPERVISOR_DATABASE_URL="file:sqlite:x.db" is invalid: use sqlite:PATH/],
    ['SANDBOX_RUNTIME', 'docker', /SANDBOX_RUNTIME="docker" is invalid: use one of process, podman/],
    ['SANDBOX_CONTAINER_IMAGE', 'Not An Image', /SANDBOX_CONTAINER_IMAGE="Not An Image" is invalid: use an image reference/],
    ['SANDBOX_PODMAN_BINARY', 'podman --remote', /SANDBOX_PODMAN_BINARY="podman --remote" is invalid/],
    ['SANDBOX_IDLE_TIMEOUT_SECS', '-5', /SANDBOX_IDLE_TIMEOUT_SECS="-5" is invalid: use a whole number/],
    ['SANDBOX_IDLE_TIMEOUT_SECS', '1.5', /SANDBOX_IDLE_TIMEOUT_SECS="1.5" is invalid/],
    ['HYPERVISOR_ADMIN_TOKEN', 'short', /HYPERVISOR_ADMIN_TOKEN="\(hidden\)" is invalid: the admin token must be at least 16 characters/],
    ['WEBAUTHN_RP_ID', '127.0.0.1', /WEBAUTHN_RP_ID="127.0.0.1" is invalid: use a domain name/],
    ['WEBAUTHN_RP_ORIGIN', 'localhost:9090', /WEBAUTHN_RP_ORIGIN="localhost:9090" is invalid: use an origin/],
    ['WEBAUTHN_RP_ORIGIN', 'https://choir.example.com/login', /WEBAUTHN_RP_ORIGIN="https:\/\/choir.example.com\/login" is invalid/],
  ])('a bad %s (%s) is refused with a message naming the variable, the value and what is accepted', (variable, value, message) => {
    const error = configError(baseEnv({ [variable]: value }));
    expect(error.variable).toBe(variable);
    expect(error.message).toMatch(message);
  });

  it('never shows the admin token itself in an error', () => {
    const error = configError(baseEnv({ HYPERVISOR_ADMIN_TOKEN: 'has space secret-value' }));
    expect(error.message).not.toContain('secret-value');
  });

  it('reads the admin token from HYPERVISOR_ADMIN_TOKEN_FILE and names the file when it cannot', () => {
    const file = path.join(scratch(), 'token');
    writeFileSync(file, 'token-from-a-file-0123456789\n');
    expect(loadConfig(baseEnv({ HYPERVISOR_ADMIN_TOKEN: undefined, HYPERVISOR_ADMIN_TOKEN_FILE: file })).admin).toEqual({ token: 'token-from-a-file-0123456789', source: 'file', tokenFile: file });
    const missing = configError(baseEnv({ HYPERVISOR_ADMIN_TOKEN: undefined, HYPERVISOR_ADMIN_TOKEN_FILE: '/nonexistent/token' }));
    expect(missing.message).toMatch(/HYPERVISOR_ADMIN_TOKEN_FILE="\/nonexistent\/token" is invalid: the file cannot be read \(ENOENT\)/);
  });

  it('reads the admin token from the systemd credential admin-token in $CREDENTIALS_DIRECTORY', () => {
    const credentials = scratch();
    writeFileSync(path.join(credentials, 'admin-token'), 'token-from-a-credential-0123456789\n');
    const admin = loadConfig(baseEnv({ HYPERVISOR_ADMIN_TOKEN: undefined, CREDENTIALS_DIRECTORY: credentials })).admin;
    expect(admin).toEqual({ token: 'token-from-a-credential-0123456789', source: 'credential', tokenFile: path.join(credentials, 'admin-token') });
    // A credentials directory without the token (no adminTokenFile in the module): the generated token, as before.
    expect(loadConfig(baseEnv({ HYPERVISOR_ADMIN_TOKEN: undefined, CREDENTIALS_DIRECTORY: scratch() })).admin.source).toBe('generated');
  });

  it('names the credential file, never its content, when the credential is unusable', () => {
    const credentials = scratch();
    writeFileSync(path.join(credentials, 'admin-token'), 'short-secret');
    const error = configError(baseEnv({ HYPERVISOR_ADMIN_TOKEN: undefined, CREDENTIALS_DIRECTORY: credentials }));
    expect(error.message).toContain(path.join(credentials, 'admin-token'));
    expect(error.message).not.toContain('short-secret');
  });

  it('generates an admin token once, in a 0600 file next to the database, and reuses it', () => {
    const env = baseEnv({ HYPERVISOR_ADMIN_TOKEN: undefined });
    const first = loadConfig(env).admin;
    expect(first.source).toBe('generated');
    const file = first.tokenFile as string;
    expect(path.dirname(file)).toBe(path.dirname((env.HYPERVISOR_DATABASE_URL as string).slice('sqlite:'.length)));
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8').trim()).toBe(first.token);
    expect(first.token.length).toBeGreaterThanOrEqual(32);
    expect(loadConfig(env).admin.token).toBe(first.token);
  });

  it('derives the WebAuthn origin from the real port when HYPERVISOR_PORT is 0', () => {
    const config = loadConfig(baseEnv({ HYPERVISOR_PORT: '0' }));
    expect(withListeningPort(config, 41234).webauthn.rpOrigin).toBe('http://localhost:41234');
    const explicit = loadConfig(baseEnv({ HYPERVISOR_PORT: '0', WEBAUTHN_RP_ORIGIN: 'http://localhost:9999' }));
    expect(withListeningPort(explicit, 41234).webauthn.rpOrigin).toBe('http://localhost:9999');
  });

  it('on port 80 derives the origin a browser sends, without the port (http://localhost:80 never matches one)', () => {
    expect(loadConfig(baseEnv({ HYPERVISOR_PORT: '80' })).webauthn.rpOrigin).toBe('http://localhost');
    expect(withListeningPort(loadConfig(baseEnv({ HYPERVISOR_PORT: '0' })), 80).webauthn.rpOrigin).toBe('http://localhost');
  });

  it('gives every data root its own instance id (the choiros.instance label)', () => {
    expect(loadConfig(baseEnv()).sandboxes.instanceId).not.toBe(loadConfig(baseEnv()).sandboxes.instanceId);
  });

  it('sandbox timing and restart defaults: ready within 30 s, stop within 5 s, 5 crash restarts 500 ms apart; 5 known-good releases kept', () => {
    const config = loadConfig(baseEnv());
    expect(config.sandboxes).toMatchObject({ readyTimeoutMs: 30_000, stopTimeoutSecs: 5, restartLimit: 5, restartBackoffMs: 500 });
    expect(config.routing).toEqual({ knownGoodRetain: 5 });
    const set = loadConfig(baseEnv({ SANDBOX_READY_TIMEOUT_SECS: '7', SANDBOX_STOP_TIMEOUT_SECS: '2', SANDBOX_RESTART_LIMIT: '0', SANDBOX_RESTART_BACKOFF_MS: '10', HYPERVISOR_KNOWN_GOOD_RETAIN: '1' }));
    expect(set.sandboxes).toMatchObject({ readyTimeoutMs: 7_000, stopTimeoutSecs: 2, restartLimit: 0, restartBackoffMs: 10 });
    expect(set.routing.knownGoodRetain).toBe(1);
  });

  it('takes an admin token of exactly 16 characters, and refuses 15', () => {
    expect(loadConfig(baseEnv({ HYPERVISOR_ADMIN_TOKEN: '0123456789abcdef' })).admin.token).toBe('0123456789abcdef');
    expect(configError(baseEnv({ HYPERVISOR_ADMIN_TOKEN: '0123456789abcde' })).variable).toBe('HYPERVISOR_ADMIN_TOKEN');
  });

  it('binds to 127.0.0.1 unless HYPERVISOR_HOST names a whole host name or address', () => {
    expect(loadConfig(baseEnv({ HYPERVISOR_HOST: '::1' })).server.host).toBe('::1');
    expect(loadConfig(baseEnv({ HYPERVISOR_HOST: 'hypervisor.internal' })).server.host).toBe('hypervisor.internal');
    expect(configError(baseEnv({ HYPERVISOR_HOST: 'host/path' })).variable).toBe('HYPERVISOR_HOST');
  });
});
