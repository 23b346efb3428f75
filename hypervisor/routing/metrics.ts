import { Counter, Histogram } from 'prom-client';
import { metricsRegistry } from '../metrics-registry.ts';

export const routeSwitches = new Counter({
  name: 'choiros_route_switches_total',
  help: 'Route switch attempts, by action (swap, promote, rollback) and outcome (switched, refused)',
  labelNames: ['action', 'outcome'] as const,
  registers: [metricsRegistry],
});

export const routeSwitchSeconds = new Histogram({
  name: 'choiros_route_switch_duration_seconds',
  help: 'From a switch requested to the new target serving main',
  labelNames: ['action'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 1.5, 2.5, 5, 10],
  registers: [metricsRegistry],
});

export const releaseDeploys = new Counter({
  name: 'choiros_release_deploys_total',
  help: 'Release deploys to a standby slot, by outcome (ready, refused)',
  labelNames: ['outcome'] as const,
  registers: [metricsRegistry],
});
