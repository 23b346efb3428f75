import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../log.ts';
import { figureNames, type Figure } from './figure-names.ts';
import { droppedFigures, startCloudWatchPublisher, type MetricsPublisher } from './publisher.ts';

interface SentDatum {
  MetricName: string;
  Unit: string;
  Value: number;
  Dimensions: { Name: string; Value: string }[];
}

/** A CloudWatch stand-in on loopback that refuses PutMetricData while `down`, and records what it accepts. */
interface CloudWatchStandIn {
  endpoint: string;
  down: boolean;
  accepted: SentDatum[][];
  close(): Promise<void>;
}

async function startCloudWatchStandIn(): Promise<CloudWatchStandIn> {
  const standIn: CloudWatchStandIn = { endpoint: '', down: false, accepted: [], close: async () => undefined };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (standIn.down) {
        res.writeHead(503, { 'content-type': 'application/x-amz-json-1.0' });
        res.end(JSON.stringify({ __type: 'ServiceUnavailable', message: 'stand-in is down' }));
        return;
      }
      // The SDK gzips a large PutMetricData body.
      const body = req.headers['content-encoding'] === 'gzip' ? gunzipSync(Buffer.concat(chunks)) : Buffer.concat(chunks);
      standIn.accepted.push((JSON.parse(body.toString('utf8')) as { MetricData: SentDatum[] }).MetricData);
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
      res.end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  standIn.endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  standIn.close = async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return standIn;
}

const savedEnv = { ...process.env };
beforeAll(() => {
  Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing', AWS_EC2_METADATA_DISABLED: 'true' });
});
afterAll(() => {
  process.env = savedEnv;
});

describe('the CloudWatch publisher', () => {
  let standIn: CloudWatchStandIn;
  let publisher: MetricsPublisher | undefined;
  const logLines: string[] = [];
  /** Each read is one interval: every figure, valued by the interval's number. */
  let interval = 0;
  const readFigures = async (): Promise<Figure[]> => {
    const value = interval++;
    return figureNames.map((name) => ({ name, value }));
  };
  const start = async (): Promise<MetricsPublisher> => {
    standIn = await startCloudWatchStandIn();
    publisher = startCloudWatchPublisher({
      config: { enabled: true, region: 'us-east-1', endpoint: standIn.endpoint, namespace: 'ChoirOS/UnitTest', intervalMs: 3_600_000, host: 'unit-host' },
      readFigures,
      log: createLogger('cloudwatch-test', { write: (line: string) => void logLines.push(line) }),
    });
    return publisher;
  };
  const events = () => logLines.map((line) => String((JSON.parse(line) as { event?: string }).event));
  afterEach(async () => {
    await publisher?.stop();
    await standIn.close();
    logLines.length = 0;
    interval = 0;
  });

  it('sends every figure in its unit with the Host dimension', async () => {
    await (await start()).publishNow();
    const [batch = []] = standIn.accepted;
    expect(batch.map((datum) => datum.MetricName).sort()).toEqual([...figureNames].sort());
    expect(batch.find((datum) => datum.MetricName === 'RequestLatencyP99')?.Unit).toBe('Milliseconds');
    expect(batch.find((datum) => datum.MetricName === 'DiskHeadroom')?.Unit).toBe('Percent');
    for (const datum of batch) expect(datum.Dimensions).toEqual([{ Name: 'Host', Value: 'unit-host' }]);
  });

  it('warns once per outage, keeps the figures for the next try, and logs cloudwatch.recovered when a put succeeds again', async () => {
    const p = await start();
    standIn.down = true;
    for (let i = 0; i < 3; i++) await p.publishNow();
    expect(standIn.accepted).toEqual([]);
    expect(events().filter((event) => event === 'cloudwatch.unreachable')).toHaveLength(1);
    standIn.down = false;
    await p.publishNow();
    expect(events().filter((event) => event === 'cloudwatch.recovered')).toHaveLength(1);
    expect(standIn.accepted.flat().map((datum) => datum.Value).sort(), 'all four intervals, once each').toEqual([0, 1, 2, 3].flatMap((value) => figureNames.map(() => value)).sort());
    await p.publishNow();
    expect(events().filter((event) => event === 'cloudwatch.recovered'), 'recovered once, not on every put').toHaveLength(1);
  });

  it('drops the oldest figures when the outage outlasts the queue (about an hour), so the newest survive', async () => {
    const p = await start();
    standIn.down = true;
    // The queue holds 60 intervals of figures; the 61st pushes the first interval out.
    for (let i = 0; i < 60; i++) await p.publishNow();
    standIn.down = false;
    await p.publishNow();
    const sentIntervals = [...new Set(standIn.accepted.flat().map((datum) => datum.Value))].sort((a, b) => a - b);
    expect(sentIntervals[0], 'the first interval is the one dropped').toBe(1);
    expect(sentIntervals.at(-1), 'the latest interval is sent').toBe(60);
    expect(standIn.accepted.flat()).toHaveLength(60 * figureNames.length);
  });

  it('counts each dropped figure in choiros_cloudwatch_dropped_figures_total', async () => {
    const dropped = async () => (await droppedFigures.get()).values.reduce((sum, sample) => sum + sample.value, 0);
    const before = await dropped();
    const p = await start();
    standIn.down = true;
    for (let i = 0; i < 61; i++) await p.publishNow();
    expect(await dropped(), 'the first interval pushed out, one count per figure').toBe(before + figureNames.length);
  });

  it('sends a whole outage\'s backlog in one batched PutMetricData once CloudWatch answers again', async () => {
    const p = await start();
    standIn.down = true;
    // 60 intervals of figures: within CloudWatch's 1000 datums per call, so one call carries them all.
    for (let i = 0; i < 59; i++) await p.publishNow();
    standIn.down = false;
    await p.publishNow();
    expect(standIn.accepted.map((batch) => batch.length)).toEqual([60 * figureNames.length]);
  });

  it('makes one last attempt to send what is queued when stopped', async () => {
    const p = await start();
    standIn.down = true;
    await p.publishNow();
    standIn.down = false;
    await p.stop();
    publisher = undefined;
    expect(standIn.accepted.flat().map((datum) => datum.MetricName).sort()).toEqual([...figureNames].sort());
  });
});
