import { describe, expect, it } from 'vitest';
import { jobSummary } from './job-summary.ts';
import { readMarkdownTable } from './markdown-table.ts';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

describe('reading a Markdown table by its headers', () => {
  it('keys every row by its column header and stops at the first line outside the table', () => {
    const markdown = ['## title', '', '| output | hits | misses |', '|---|---|---|', '| desktop | 3 | 0 |', '| sandbox |  | 2 |', '', 'after'].join('\n');
    expect(readMarkdownTable(markdown)).toEqual([
      { output: 'desktop', hits: '3', misses: '0' },
      { output: 'sandbox', hits: '', misses: '2' },
    ]);
  });

  it('finds no rows where there is no table', () => {
    expect(readMarkdownTable('no table here\n| just a pipe |')).toEqual([]);
  });

  it("reads the CI job summary's hits and misses in their own columns", () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'job-summary-'));
    try {
      writeFileSync(path.join(dir, 'sandbox.log'), "copying path '/nix/store/aaaa-x' from 'http://cache'\ncopying path '/nix/store/bbbb-y' from 'http://cache'\nbuilding '/nix/store/cccc-z.drv'...\n");
      writeFileSync(path.join(dir, 'sandbox.ms'), '2500\n');
      const row = readMarkdownTable(jobSummary(dir)).find((r) => r.output === 'sandbox');
      expect(row).toMatchObject({ duration: '2.5 s', 'hits (copied from a cache)': '2', 'misses (built)': '1', from: 'http://cache' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
