import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fileTail, lastLines } from './log-tail.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function logFile(content: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'choiros-log-tail-'));
  dirs.push(dir);
  const file = path.join(dir, 'sandbox.log');
  writeFileSync(file, content);
  return file;
}

describe('a sandbox log tail', () => {
  it('is the last lines, in order, without the trailing newline', () => {
    expect(lastLines('one\ntwo\nthree\nfour\n', 2)).toBe('three\nfour');
    expect(lastLines('one\ntwo\n\n\n', 1), 'blank lines at the end are not the last line').toBe('two');
    expect(lastLines('only\n', 5)).toBe('only');
  });

  it("is read from the end of the log file, and is '' when the sandbox never wrote one", async () => {
    const lines = Array.from({ length: 40 }, (_, i) => `line ${i + 1}`);
    expect(await fileTail(logFile(`${lines.join('\n')}\n`), 3)).toBe('line 38\nline 39\nline 40');
    expect(await fileTail(path.join(tmpdir(), 'choiros-no-such-log', 'sandbox.log'), 3)).toBe('');
    expect(await fileTail(logFile(''), 3)).toBe('');
  });

  // A crash loop can write megabytes; the tail reads at most the last 16 KiB of it.
  it('of a long log holds the last lines and nothing from before the last 16 KiB', async () => {
    const early = `${'early '.repeat(10)}\n`.repeat(1000);
    const late = Array.from({ length: 100 }, (_, i) => `late ${i + 1} ${'x'.repeat(100)}`).join('\n');
    const tail = await fileTail(logFile(`${early}${late}\n`), 1000);
    expect(tail.split('\n').at(-1)).toBe(`late 100 ${'x'.repeat(100)}`);
    expect(tail).toContain(`late 1 ${'x'.repeat(100)}`);
    expect(Buffer.byteLength(tail)).toBeLessThanOrEqual(16 * 1024);
    expect(Buffer.byteLength(tail)).toBeGreaterThan(15 * 1024);
  });

  it('reads the last 16 KiB (16384 bytes) whole: a line that starts exactly 16 KiB before the end is there in full', async () => {
    const last = Array.from({ length: 16 }, (_, i) => `line ${i + 1} `.padEnd(1023, 'x'));
    const tail = await fileTail(logFile(`early\n${last.join('\n')}\n`), 100);
    expect(tail.split('\n')).toEqual(last);
  });
});
