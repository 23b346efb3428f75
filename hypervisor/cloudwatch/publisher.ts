import { CloudWatchClient, PutMetricDataCommand, type MetricDatum } from '@aws-sdk/client-cloudwatch';
import { Counter } from 'prom-client';
import type { CloudWatchConfig } from '../config.ts';
import { metricsRegistry } from '../metrics-registry.ts';
import type { Logger } from '../log.ts';
import { figureUnits, hostDimension, type Figure } from './figure-names.ts';

export const publishFailures = new Counter({
  name: 'choiros_cloudwatch_publish_failures_total',
  help: 'PutMetricData calls to CloudWatch that failed (unreachable, refused); the figures wait for the next try',
  registers: [metricsRegistry],
});

export const droppedFigures = new Counter({
  name: 'choiros_cloudwatch_dropped_figures_total',
  help: 'Figures dropped unsent because CloudWatch stayed unreachable longer than the queue holds',
  registers: [metricsRegistry],
});

/** CloudWatch takes up to 1000 datums per PutMetricData. */
const batchLimit = 1000;
/** Figures kept while CloudWatch is unreachable: about an hour at the default interval. */
const queueLimit = 60 * Object.keys(figureUnits).length;

export interface MetricsPublisher {
  /** Reads the figures and sends everything queued now (tests; the timer does this every interval). */
  publishNow(): Promise<void>;
  /** Stops the timer and makes one last attempt to send what is queued. */
  stop(): Promise<void>;
}

export interface PublisherOptions {
  config: CloudWatchConfig;
  readFigures: () => Promise<Figure[]>;
  log: Logger;
}

/**
 * Publishes the hypervisor's key figures to CloudWatch every interval, in one batched PutMetricData.
 * It runs on its own unref'd timer, so no request ever waits for it; when CloudWatch cannot be
 * reached it counts the failure, warns once per outage, keeps the figures for the next try (bounded)
 * and never throws.
 */
export function startCloudWatchPublisher({ config, readFigures, log }: PublisherOptions): MetricsPublisher {
  const client = new CloudWatchClient({
    region: config.region,
    ...(config.endpoint ? { endpoint: config.endpoint } : {}),
    // One quick attempt: the next interval is the retry, and a hung endpoint must not pile up calls.
    maxAttempts: 1,
    requestHandler: { connectionTimeout: 2_000, requestTimeout: 5_000 },
  });
  const where = { event: 'cloudwatch', region: config.region, namespace: config.namespace, ...(config.endpoint ? { endpoint: config.endpoint } : {}) };
  let queue: MetricDatum[] = [];
  let inFlight: Promise<void> | undefined;
  let failing = false;

  const enqueue = async (): Promise<void> => {
    const at = new Date();
    const figures = await readFigures();
    queue.push(
      ...figures.map((figure) => ({
        MetricName: figure.name,
        Unit: figureUnits[figure.name],
        Value: figure.value,
        Timestamp: at,
        Dimensions: [{ Name: hostDimension, Value: config.host }],
      })),
    );
    if (queue.length > queueLimit) {
      droppedFigures.inc(queue.length - queueLimit);
      queue = queue.slice(queue.length - queueLimit);
    }
  };

  const send = async (): Promise<void> => {
    while (queue.length) {
      const batch = queue.slice(0, batchLimit);
      try {
        await client.send(new PutMetricDataCommand({ Namespace: config.namespace, MetricData: batch }));
      } catch (error) {
        publishFailures.inc();
        if (!failing) log.warn({ ...where, event: 'cloudwatch.unreachable', error: (error as Error).message, queued: queue.length }, 'cannot publish figures to CloudWatch; will retry every interval');
        failing = true;
        return;
      }
      queue = queue.slice(batch.length);
      if (failing) log.info({ ...where, event: 'cloudwatch.recovered' }, 'publishing figures to CloudWatch again');
      failing = false;
    }
  };

  const tick = (): Promise<void> => {
    // A send still in flight: this interval's figures wait in the queue for the next one.
    inFlight ??= enqueue()
      .then(send)
      .catch((error: unknown) => log.error({ ...where, event: 'cloudwatch.figures_failed', error: (error as Error).message }, 'reading the figures for CloudWatch failed'))
      .finally(() => (inFlight = undefined));
    return inFlight;
  };

  const timer = setInterval(() => void tick(), config.intervalMs);
  timer.unref();
  log.info({ ...where, event: 'cloudwatch.publishing', interval_ms: config.intervalMs, host: config.host }, 'publishing figures to CloudWatch');

  return {
    publishNow: async () => {
      await inFlight;
      await tick();
    },
    stop: async () => {
      clearInterval(timer);
      await inFlight;
      await send().catch(() => undefined);
      client.destroy();
    },
  };
}
