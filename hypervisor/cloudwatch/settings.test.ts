import { mkdtempSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, type Env } from '../config.ts';

function env(overrides: Env = {}): Env {
  const dir = mkdtempSync(path.join(tmpdir(), 'choiros-cw-config-'));
  return { HYPERVISOR_DATABASE_URL: `sqlite:${path.join(dir, 'h.db')}`, SANDBOX_DATA_ROOT: path.join(dir, 'sandboxes'), HYPERVISOR_ADMIN_TOKEN: 'a-long-enough-admin-token', ...overrides };
}

function refused(overrides: Env): ConfigError {
  try {
    loadConfig(env(overrides));
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('loadConfig accepted the environment');
}

describe('CloudWatch settings (HYPERVISOR_CLOUDWATCH_*)', () => {
  it('are off by default, with AWS defaults for the rest', () => {
    expect(loadConfig(env()).cloudwatch).toEqual({ enabled: false, region: 'us-east-1', endpoint: undefined, namespace: 'ChoirOS/Hypervisor', intervalMs: 60_000, host: hostname() });
  });

  it('take region, endpoint, namespace, interval and host from the environment', () => {
    const settings = loadConfig(
      env({
        HYPERVISOR_CLOUDWATCH: 'on',
        HYPERVISOR_CLOUDWATCH_REGION: 'eu-central-1',
        HYPERVISOR_CLOUDWATCH_ENDPOINT: 'http://127.0.0.1:5000',
        HYPERVISOR_CLOUDWATCH_NAMESPACE: 'ChoirOS/Prod',
        HYPERVISOR_CLOUDWATCH_INTERVAL_SECS: '30',
        HYPERVISOR_CLOUDWATCH_HOST: 'choir-prod-1',
      }),
    ).cloudwatch;
    expect(settings).toEqual({ enabled: true, region: 'eu-central-1', endpoint: 'http://127.0.0.1:5000', namespace: 'ChoirOS/Prod', intervalMs: 30_000, host: 'choir-prod-1' });
  });

  it.each([
    ['HYPERVISOR_CLOUDWATCH', 'yes', /use one of off, on/],
    ['HYPERVISOR_CLOUDWATCH_REGION', 'Frankfurt', /AWS region/],
    ['HYPERVISOR_CLOUDWATCH_ENDPOINT', 'moto:5000/x', /origin/],
    ['HYPERVISOR_CLOUDWATCH_NAMESPACE', 'AWS/EC2', /not starting with AWS\//],
    ['HYPERVISOR_CLOUDWATCH_INTERVAL_SECS', '0', /whole number from 1 to 3600/],
    ['HYPERVISOR_CLOUDWATCH_HOST', 'two words', /without spaces/],
  ])('a bad %s (%s) is refused naming the variable and what to use', (variable, value, accepted) => {
    const error = refused({ [variable]: value });
    expect(error.variable).toBe(variable);
    expect(error.message).toContain(`${variable}="${value}"`);
    expect(error.message).toMatch(accepted);
  });
});
