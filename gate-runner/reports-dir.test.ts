import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../hypervisor/paths.ts';
import { gatesDirIn, reportsDirFromEnv } from './reports-dir.ts';

describe('where a gate run writes (GATE_REPORTS_DIR)', () => {
  it('is reports/ in the checkout when GATE_REPORTS_DIR is unset or blank', () => {
    expect(reportsDirFromEnv({})).toBe(path.join(repoRoot, 'reports'));
    expect(reportsDirFromEnv({ GATE_REPORTS_DIR: '  ' })).toBe(path.join(repoRoot, 'reports'));
  });

  it('takes GATE_REPORTS_DIR as given when absolute, from the checkout when relative, trimmed', () => {
    expect(reportsDirFromEnv({ GATE_REPORTS_DIR: ' /var/cache/gates ' })).toBe('/var/cache/gates');
    expect(reportsDirFromEnv({ GATE_REPORTS_DIR: 'ci-cache/reports' })).toBe(path.join(repoRoot, 'ci-cache', 'reports'));
  });

  it('keeps verdicts and the ledger in gates/ under it', () => {
    expect(gatesDirIn('/var/cache/gates')).toBe(path.join('/var/cache/gates', 'gates'));
  });
});
