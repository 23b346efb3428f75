import { describe, expect, it } from 'vitest';
import { connectionsSection } from './config-connections.ts';
import { ConfigError, type Env } from './env-values.ts';

function configError(env: Env): ConfigError {
  try {
    connectionsSection(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('connectionsSection accepted the environment');
}

describe('connection settings', () => {
  it('defaults: no trusted proxies, 30 s for headers, 60 s for a request, 256 connections per client, 64 WebSockets per user, 10000 in all', () => {
    expect(connectionsSection({})).toEqual({
      trustedProxies: [],
      headersTimeoutMs: 30_000,
      requestTimeoutMs: 60_000,
      connectionsPerClient: 256,
      webSocketsPerUser: 64,
      webSocketsTotal: 10_000,
    });
  });

  it('reads each variable it documents', () => {
    expect(
      connectionsSection({
        HYPERVISOR_TRUSTED_PROXIES: '127.0.0.1, ::1,10.0.0.2',
        HYPERVISOR_HEADERS_TIMEOUT_SECS: '5',
        HYPERVISOR_REQUEST_TIMEOUT_SECS: '20',
        HYPERVISOR_CONNECTIONS_PER_CLIENT: '32',
        HYPERVISOR_WEBSOCKETS_PER_USER: '8',
        HYPERVISOR_WEBSOCKETS_TOTAL: '100',
      }),
    ).toEqual({ trustedProxies: ['127.0.0.1', '::1', '10.0.0.2'], headersTimeoutMs: 5_000, requestTimeoutMs: 20_000, connectionsPerClient: 32, webSocketsPerUser: 8, webSocketsTotal: 100 });
  });

  it('refuses a trusted proxy that is not an IP address, naming it', () => {
    const error = configError({ HYPERVISOR_TRUSTED_PROXIES: '127.0.0.1,caddy.internal' });
    expect(error.variable).toBe('HYPERVISOR_TRUSTED_PROXIES');
    expect(error.message).toMatch(/"caddy\.internal" is not an IP address/);
  });

  it('refuses a request timeout shorter than the headers timeout', () => {
    const error = configError({ HYPERVISOR_HEADERS_TIMEOUT_SECS: '30', HYPERVISOR_REQUEST_TIMEOUT_SECS: '10' });
    expect(error.variable).toBe('HYPERVISOR_REQUEST_TIMEOUT_SECS');
    expect(error.message).toMatch(/at least HYPERVISOR_HEADERS_TIMEOUT_SECS \(30\)/);
  });

  it('takes a request timeout equal to the headers timeout ("at least")', () => {
    expect(connectionsSection({ HYPERVISOR_HEADERS_TIMEOUT_SECS: '20', HYPERVISOR_REQUEST_TIMEOUT_SECS: '20' })).toMatchObject({ headersTimeoutMs: 20_000, requestTimeoutMs: 20_000 });
  });

  it('skips empty entries in the trusted proxy list (a trailing or doubled comma)', () => {
    expect(connectionsSection({ HYPERVISOR_TRUSTED_PROXIES: '127.0.0.1,, ::1,' }).trustedProxies).toEqual(['127.0.0.1', '::1']);
  });

  it.each(['HYPERVISOR_CONNECTIONS_PER_CLIENT', 'HYPERVISOR_WEBSOCKETS_PER_USER', 'HYPERVISOR_WEBSOCKETS_TOTAL', 'HYPERVISOR_HEADERS_TIMEOUT_SECS'])('refuses 0 and words for %s', (variable) => {
    expect(configError({ [variable]: '0' }).variable).toBe(variable);
    expect(configError({ [variable]: 'many' }).variable).toBe(variable);
  });
});
