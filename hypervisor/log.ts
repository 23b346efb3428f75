import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger };

/**
 * The one logger: structured JSON lines, one per event. Transition logs are Phase 1 evidence,
 * so callers log an `event` field naming what happened rather than free text.
 */
export function createLogger(name: string, destination?: DestinationStream): Logger {
  const options = {
    name,
    level: process.env.LOG_LEVEL ?? 'info',
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return destination ? pino(options, destination) : pino(options);
}
