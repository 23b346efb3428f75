import { randomBytes } from 'node:crypto';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMotoServer, type MotoServer } from '../../fixtures/moto-server.ts';
import { readCloudWatchFigures } from '../../fixtures/runtime-metrics/cloudwatch-figures.ts';
import { removeDir, startTestHypervisor, waitFor, type TestHypervisor } from '../../fixtures/test-hypervisor.ts';
import { allocatePort } from '../sandboxes/ports.ts';
import { figureNames } from './figure-names.ts';

let moto: MotoServer;
const savedEnv = { ...process.env };

beforeAll(async () => {
  moto = await startMotoServer();
  Object.assign(process.env, moto.credentials);
}, 90_000);

afterAll(async () => {
  process.env = savedEnv;
  await moto.close();
});

async function hypervisorPublishingTo(endpoint: string, host: string): Promise<TestHypervisor> {
  return startTestHypervisor({
    HYPERVISOR_CLOUDWATCH: 'on',
    HYPERVISOR_CLOUDWATCH_ENDPOINT: endpoint,
    HYPERVISOR_CLOUDWATCH_INTERVAL_SECS: '1',
    HYPERVISOR_CLOUDWATCH_NAMESPACE: 'ChoirOS/GateTest',
    HYPERVISOR_CLOUDWATCH_HOST: host,
  });
}

async function get(url: string): Promise<number> {
  const res = await request(url);
  await res.body.dump();
  return res.statusCode;
}

describe('CloudWatch publishing (moto as the CloudWatch stand-in)', () => {
  it('publishes every key figure, batched, for this host, readable with GetMetricData (moto stand-in)', async () => {
    const host = `gate-test-${randomBytes(4).toString('hex')}`;
    const from = new Date(Date.now() - 60_000);
    const target = await hypervisorPublishingTo(moto.endpoint, host);
    try {
      // Proxied requests (refused without a session, but timed like any other).
      for (let i = 0; i < 5; i += 1) expect(await get(`${target.url}/conductor/runs`)).toBe(401);
      const series = await waitFor(
        'every figure in CloudWatch',
        async () => {
          const read = await readCloudWatchFigures({ region: 'us-east-1', endpoint: moto.endpoint, namespace: 'ChoirOS/GateTest', host }, { from, to: new Date(Date.now() + 60_000) });
          return figureNames.every((name) => read[name].points.length > 0) ? read : undefined;
        },
        30_000,
      );
      expect(series.SandboxesRunning.points.at(-1)?.value).toBe(0);
      expect(series.SandboxesFailed.points.at(-1)?.value).toBe(0);
      expect(series.RequestLatencyP99.points.at(-1)?.value).toBeGreaterThan(0);
      for (const headroom of [series.MemoryHeadroom, series.DiskHeadroom]) {
        const value = headroom.points.at(-1)?.value ?? -1;
        expect(value).toBeGreaterThan(0);
        expect(value).toBeLessThanOrEqual(100);
      }
      expect(target.logs.some((line) => line.event === 'cloudwatch.publishing' && line.host === host)).toBe(true);
      expect(target.logs.some((line) => line.event === 'cloudwatch.unreachable')).toBe(false);
    } finally {
      await target.close();
      removeDir(target.dir);
    }
  }, 60_000);

  it('stays quiet when CloudWatch is unreachable: a failure counter, one warning, requests still served', async () => {
    const closedPort = await allocatePort(new Set());
    const target = await hypervisorPublishingTo(`http://127.0.0.1:${closedPort}`, 'gate-test-unreachable');
    try {
      const failures = async (): Promise<number> => {
        const res = await request(`${target.url}/metrics`);
        const text = await res.body.text();
        return Number(/^choiros_cloudwatch_publish_failures_total (\d+)/m.exec(text)?.[1] ?? 0);
      };
      const before = await failures();
      await waitFor('three failed publishes', async () => ((await failures()) >= before + 3 ? true : undefined), 30_000);
      expect(await get(`${target.url}/health`)).toBe(200);
      expect(await get(`${target.url}/auth/me`)).toBe(200);
      const warnings = target.logs.filter((line) => line.event === 'cloudwatch.unreachable');
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatchObject({ level: 40, endpoint: `http://127.0.0.1:${closedPort}` });
      expect(String(warnings[0]?.error)).not.toBe('');
    } finally {
      await target.close();
      removeDir(target.dir);
    }
  }, 60_000);

  it('is off by default: no publishing, no warning', async () => {
    const target = await startTestHypervisor();
    try {
      expect(target.hypervisor.config.cloudwatch.enabled).toBe(false);
      expect(target.logs.some((line) => String(line.event).startsWith('cloudwatch.'))).toBe(false);
    } finally {
      await target.close();
      removeDir(target.dir);
    }
  });
});
