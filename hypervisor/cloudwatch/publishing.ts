import type { HypervisorContext } from '../context.ts';
import { metricsRegistry } from '../metrics-registry.ts';
import type { RequestHandler } from '../http/server.ts';
import { figureReader } from './figures.ts';
import { LatencyWindow, requestTiming } from './latency.ts';
import { startCloudWatchPublisher } from './publisher.ts';

/**
 * When HYPERVISOR_CLOUDWATCH=on: starts publishing the key figures (stopped on close) and returns the
 * request-timing step for the front of the pipeline. Off (the default): nothing runs, nothing is added.
 */
export function publishFigures(context: HypervisorContext): RequestHandler[] {
  const { cloudwatch } = context.config;
  if (!cloudwatch.enabled) return [];
  const latency = new LatencyWindow();
  const publisher = startCloudWatchPublisher({
    config: cloudwatch,
    log: context.log.child({ component: 'cloudwatch' }),
    readFigures: figureReader({ registry: metricsRegistry, sandboxCounts: () => context.sandboxes.counts(), latency, dataRoot: context.config.sandboxes.dataRoot }),
  });
  context.onClose(() => publisher.stop());
  return [requestTiming(latency)];
}
