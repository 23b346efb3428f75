import { describe, expect, it } from 'vitest';
import { currentAndPrevious, errorEntries, parseDf, parseGenerations, parseJournal, parseMeminfo } from './host-readings.ts';

const journalLine = (priority: number, message: unknown) => JSON.stringify({ __REALTIME_TIMESTAMP: '1764694800000000', PRIORITY: String(priority), MESSAGE: message });

describe('host readings', () => {
  it('reads journal entries, with the hypervisor level of its JSON lines', () => {
    const entries = parseJournal([journalLine(6, 'Started choiros-hypervisor.service.'), journalLine(6, JSON.stringify({ level: 50, msg: 'boom' })), journalLine(3, [104, 105])].join('\n'));
    expect(entries.map((e) => [e.priority, e.level, e.message])).toEqual([
      [6, undefined, 'Started choiros-hypervisor.service.'],
      [6, 50, '{"level":50,"msg":"boom"}'],
      [3, undefined, 'hi'],
    ]);
    expect(entries[0]?.at).toBe('2025-12-02T17:00:00.000Z');
  });

  it('counts syslog err and pino error as error-level, and sets apart the ones caused on purpose', () => {
    const entries = parseJournal([journalLine(4, 'a warning'), journalLine(6, JSON.stringify({ level: 40 })), journalLine(6, JSON.stringify({ level: 60, msg: 'fatal' })), journalLine(3, 'expected failure of gate-broken')].join('\n'));
    const { unexpected, onPurpose } = errorEntries(entries, [/gate-broken/]);
    expect(unexpected.map((e) => e.message)).toEqual(['{"level":60,"msg":"fatal"}']);
    expect(onPurpose.map((e) => e.message)).toEqual(['expected failure of gate-broken']);
  });

  it('reads df and meminfo as percentages free', () => {
    expect(parseDf('Filesystem 1024-blocks Used Available Capacity Mounted on\n/dev/vda 1000 700 250 74% /\n', '/var/lib/choiros')).toEqual({ path: '/var/lib/choiros', sizeKiB: 1000, availableKiB: 250, freePercent: 25 });
    expect(parseMeminfo('MemTotal:       24000 kB\nMemFree:  100 kB\nMemAvailable:   6000 kB\n')).toEqual({ totalKiB: 24000, availableKiB: 6000, freePercent: 25 });
  });

  it('refuses output that is not what it reads, naming it', () => {
    expect(() => parseDf('df: /var/lib/choiros: No such file or directory', '/var/lib/choiros')).toThrow(/cannot read the disk headroom of \/var\/lib\/choiros from the host: df -P -k did not print/);
    expect(() => parseMeminfo('')).toThrow(/MemTotal and MemAvailable/);
  });

  it('finds the current generation and the previous known-good one', () => {
    const generations = parseGenerations('   1   2026-12-02 17:00:00   \n   2   2026-12-02 17:01:00   \n   4   2026-12-02 17:02:00   (current)\n   5   2026-12-02 17:03:00   \n');
    expect(generations.map((g) => g.number)).toEqual([1, 2, 4, 5]);
    const { current, previous } = currentAndPrevious(generations);
    expect([current?.number, previous?.number]).toEqual([4, 2]);
    expect(currentAndPrevious(parseGenerations('   1   2026-12-02 17:00:00   (current)\n')).previous).toBeUndefined();
  });
});
