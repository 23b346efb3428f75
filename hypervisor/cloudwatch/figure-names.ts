/**
 * The key figures the hypervisor publishes to CloudWatch, by name and unit. The gate's runtime
 * metrics snapshot reads the same names back with GetMetricData, so both sides import them here.
 */
export const figureUnits = {
  SandboxesRunning: 'Count',
  SandboxesStopped: 'Count',
  SandboxesFailed: 'Count',
  SandboxRestarts: 'Count',
  ProxiedRequests: 'Count',
  ProxiedErrors: 'Count',
  RequestLatencyP99: 'Milliseconds',
  MemoryHeadroom: 'Percent',
  DiskHeadroom: 'Percent',
} as const;

export type FigureName = keyof typeof figureUnits;

export const figureNames = Object.keys(figureUnits) as FigureName[];

/** The one dimension every figure carries: which host it describes. */
export const hostDimension = 'Host';

export interface Figure {
  name: FigureName;
  value: number;
}
