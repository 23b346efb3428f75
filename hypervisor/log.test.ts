import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from './log.ts';

/** A logger whose JSON lines are kept, as pino writes them. */
function keptLogger(name: string) {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger(name, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
  return { log, lines };
}

describe('the one logger', () => {
  afterEach(() => vi.unstubAllEnvs());

  it('writes one JSON line per event, with its name, the pid, an ISO time and the event field', () => {
    const { log, lines } = keptLogger('gate-runner');
    log.info({ event: 'hypervisor.listening', port: 9090 }, 'hypervisor listening');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ name: 'gate-runner', pid: process.pid, level: 30, event: 'hypervisor.listening', port: 9090, msg: 'hypervisor listening' });
    expect(new Date(String(lines[0]?.time)).toISOString()).toBe(lines[0]?.time);
  });

  it('logs info and above by default, and follows LOG_LEVEL', () => {
    const saved = process.env.LOG_LEVEL;
    delete process.env.LOG_LEVEL;
    const byDefault = keptLogger('a');
    if (saved !== undefined) process.env.LOG_LEVEL = saved;
    byDefault.log.debug({ event: 'quiet' });
    byDefault.log.info({ event: 'heard' });
    expect(byDefault.lines.map((line) => line.event)).toEqual(['heard']);

    vi.stubEnv('LOG_LEVEL', 'warn');
    const warnings = keptLogger('b');
    warnings.log.info({ event: 'quiet' });
    warnings.log.warn({ event: 'heard' });
    expect(warnings.lines.map((line) => line.event)).toEqual(['heard']);
  });
});
