import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../config.ts';
import { AdminCallError } from './admin-call-error.ts';
import { adminEndpointFromEnv } from './admin-endpoint.ts';

const dirs: string[] = [];
const tempDir = (): string => {
  const dir = mkdtempSync(path.join(tmpdir(), 'choiros-admin-client-'));
  dirs.push(dir);
  return dir;
};

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('the routing CLI finds the admin token', () => {
  it('in the file a tokenless hypervisor generated next to its database', () => {
    const dir = tempDir();
    const env = { HYPERVISOR_DATABASE_URL: `sqlite:${path.join(dir, 'state', 'hypervisor.db')}`, SANDBOX_DATA_ROOT: path.join(dir, 'sandboxes') };
    // The hypervisor's own config code generates the token, so the two cannot drift apart unnoticed.
    const { token } = loadConfig(env).admin;
    expect(adminEndpointFromEnv(env)).toEqual({ url: 'http://127.0.0.1:9090', token });
  });

  it('in the file generated for a hypervisor with an in-memory database', () => {
    const dir = tempDir();
    const env = { HYPERVISOR_DATABASE_URL: 'sqlite::memory:', SANDBOX_DATA_ROOT: path.join(dir, 'sandboxes') };
    const { token } = loadConfig(env).admin;
    expect(adminEndpointFromEnv({ ...env, HYPERVISOR_PORT: '9191' })).toEqual({ url: 'http://127.0.0.1:9191', token });
  });

  it('prefers HYPERVISOR_ADMIN_TOKEN, then HYPERVISOR_ADMIN_TOKEN_FILE, over the generated file', () => {
    const dir = tempDir();
    const env = { HYPERVISOR_DATABASE_URL: `sqlite:${path.join(dir, 'hypervisor.db')}` };
    loadConfig(env);
    const named = path.join(dir, 'named-token');
    writeFileSync(named, 'from-the-named-file\n');
    expect(adminEndpointFromEnv({ ...env, HYPERVISOR_ADMIN_TOKEN_FILE: named }).token).toBe('from-the-named-file');
    expect(adminEndpointFromEnv({ ...env, HYPERVISOR_ADMIN_TOKEN_FILE: named, HYPERVISOR_ADMIN_TOKEN: 'from-the-environment' }).token).toBe('from-the-environment');
  });

  it('says where it looked when there is no token anywhere', () => {
    const dir = tempDir();
    const env = { HYPERVISOR_DATABASE_URL: `sqlite:${path.join(dir, 'hypervisor.db')}` };
    expect(() => adminEndpointFromEnv(env)).toThrow(`no admin token: set HYPERVISOR_ADMIN_TOKEN, or HYPERVISOR_ADMIN_TOKEN_FILE to the file holding it; a hypervisor started without one writes ${path.join(dir, 'admin-token')}`);
    expect(() => adminEndpointFromEnv({ HYPERVISOR_DATABASE_URL: 'postgres://x' })).toThrow(/HYPERVISOR_DATABASE_URL="postgres:\/\/x" is not sqlite:PATH/);
  });

  it('an unreadable HYPERVISOR_ADMIN_TOKEN_FILE is an AdminCallError naming the variable, the file and why', () => {
    expect(() => adminEndpointFromEnv({ HYPERVISOR_ADMIN_TOKEN_FILE: '/nonexistent/admin-token' })).toThrow(AdminCallError);
    expect(() => adminEndpointFromEnv({ HYPERVISOR_ADMIN_TOKEN_FILE: '/nonexistent/admin-token' })).toThrow('HYPERVISOR_ADMIN_TOKEN_FILE="/nonexistent/admin-token" cannot be read (ENOENT)');
  });
});

describe('the routing CLI finds the hypervisor', () => {
  it('at HYPERVISOR_URL when set', () => {
    expect(adminEndpointFromEnv({ HYPERVISOR_URL: 'http://10.0.0.5:9000', HYPERVISOR_PORT: '9191', HYPERVISOR_ADMIN_TOKEN: 'token' })).toEqual({ url: 'http://10.0.0.5:9000', token: 'token' });
  });

  it('refuses a HYPERVISOR_URL that is not a URL, naming it', () => {
    expect(() => adminEndpointFromEnv({ HYPERVISOR_URL: '127.0.0.1:9090', HYPERVISOR_ADMIN_TOKEN: 'token' })).toThrow(AdminCallError);
    expect(() => adminEndpointFromEnv({ HYPERVISOR_URL: 'not a url', HYPERVISOR_ADMIN_TOKEN: 'token' })).toThrow('HYPERVISOR_URL="not a url" is not a URL');
  });
});
