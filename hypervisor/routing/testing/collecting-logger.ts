import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../log.ts';

/** The project's logger, writing into memory so a test can read the structured events. */
export function collectingLogger(): { logger: Logger; events: () => Array<Record<string, unknown>> } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  const logger = createLogger('routing-test', sink);
  return { logger, events: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>) };
}
