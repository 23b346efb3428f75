/**
 * What the host's own tools print, read into figures: journalctl's JSON export, `df -P -k`,
 * /proc/meminfo and `nix-env --list-generations`. Kept apart from the SSH that fetches them, so
 * each reading is checked on fixed text (host-readings.test.ts).
 */

/** One journal entry of a unit; `level` is the hypervisor's own (pino) level when its line is JSON. */
export interface JournalEntry {
  at: string;
  /** syslog priority: 0 emerg … 3 err, 4 warning, 6 info, 7 debug. */
  priority: number;
  message: string;
  /** pino's numeric level (50 error, 60 fatal) when the message is one of the hypervisor's JSON lines. */
  level: number | undefined;
}

/** pino's error level: its error and fatal lines are error-level, like syslog's err and worse. */
const pinoError = 50;
const syslogErr = 3;

export class HostReadingError extends Error {
  constructor(what: string, text: string, why: string) {
    super(`cannot read ${what} from the host: ${why}. It printed: ${text.trim().slice(0, 400) || '(nothing)'}`);
    this.name = 'HostReadingError';
  }
}

/** `journalctl -o json` lines (one JSON object per line). */
export function parseJournal(text: string): JournalEntry[] {
  return text
    .split('\n')
    .filter((line) => line.trim().startsWith('{'))
    .map((line) => {
      const entry = JSON.parse(line) as { __REALTIME_TIMESTAMP?: string; PRIORITY?: string; MESSAGE?: unknown };
      // journald keeps a message that is not UTF-8 as an array of bytes.
      const message = typeof entry.MESSAGE === 'string' ? entry.MESSAGE : Array.isArray(entry.MESSAGE) ? Buffer.from(entry.MESSAGE as number[]).toString('utf8') : '';
      let level: number | undefined;
      try {
        const parsed = JSON.parse(message) as { level?: unknown };
        level = typeof parsed.level === 'number' ? parsed.level : undefined;
      } catch {
        // Not one of the hypervisor's JSON lines (systemd's own, or a crash's stderr).
      }
      const micros = Number(entry.__REALTIME_TIMESTAMP ?? 0);
      return { at: new Date(micros / 1000).toISOString(), priority: Number(entry.PRIORITY ?? 6), message, level };
    });
}

export function isErrorLevel(entry: JournalEntry): boolean {
  return entry.priority <= syslogErr || (entry.level !== undefined && entry.level >= pinoError);
}

/** Error-level entries, split into those the run caused on purpose (matching one of `onPurpose`) and the rest. */
export function errorEntries(entries: readonly JournalEntry[], onPurpose: readonly RegExp[]): { unexpected: JournalEntry[]; onPurpose: JournalEntry[] } {
  const errors = entries.filter(isErrorLevel);
  const caused = (entry: JournalEntry) => onPurpose.some((pattern) => pattern.test(entry.message));
  return { unexpected: errors.filter((e) => !caused(e)), onPurpose: errors.filter(caused) };
}

export interface DiskHeadroom {
  path: string;
  sizeKiB: number;
  availableKiB: number;
  /** Available to unprivileged writers over the file system's size, in percent. */
  freePercent: number;
}

/** `df -P -k PATH`: the second line's size and available columns. */
export function parseDf(text: string, dir: string): DiskHeadroom {
  const row = text.trim().split('\n')[1]?.trim().split(/\s+/);
  const sizeKiB = Number(row?.[1]);
  const availableKiB = Number(row?.[3]);
  if (!row || !Number.isFinite(sizeKiB) || !Number.isFinite(availableKiB) || sizeKiB <= 0) throw new HostReadingError(`the disk headroom of ${dir}`, text, 'df -P -k did not print a size and an available figure');
  return { path: dir, sizeKiB, availableKiB, freePercent: round((availableKiB / sizeKiB) * 100) };
}

export interface MemoryHeadroom {
  totalKiB: number;
  availableKiB: number;
  /** MemAvailable over MemTotal, in percent (what the kernel could give without swapping). */
  freePercent: number;
}

export function parseMeminfo(text: string): MemoryHeadroom {
  const field = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB$`, 'm').exec(text)?.[1]);
  const totalKiB = field('MemTotal');
  const availableKiB = field('MemAvailable');
  if (!Number.isFinite(totalKiB) || !Number.isFinite(availableKiB) || totalKiB <= 0) throw new HostReadingError('the memory headroom', text, '/proc/meminfo has no MemTotal and MemAvailable lines');
  return { totalKiB, availableKiB, freePercent: round((availableKiB / totalKiB) * 100) };
}

export interface ProfileGeneration {
  number: number;
  created: string;
  current: boolean;
}

/** `nix-env -p PROFILE --list-generations`: "   3   2026-12-02 17:01:02   (current)". */
export function parseGenerations(text: string): ProfileGeneration[] {
  return text
    .split('\n')
    .map((line) => /^\s*(\d+)\s+(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)\s*(\(current\))?\s*$/.exec(line))
    .filter((match): match is RegExpExecArray => match !== null)
    .map((match) => ({ number: Number(match[1]), created: match[2] as string, current: match[3] !== undefined }));
}

/** The current generation and the one a rollback returns to: the newest generation older than the current one. */
export function currentAndPrevious<T extends ProfileGeneration>(generations: readonly T[]): { current: T | undefined; previous: T | undefined } {
  const current = generations.find((g) => g.current);
  const older = generations.filter((g) => current !== undefined && g.number < current.number).sort((a, b) => b.number - a.number);
  return { current, previous: older[0] };
}

function round(percent: number): number {
  return Math.round(percent * 10) / 10;
}
