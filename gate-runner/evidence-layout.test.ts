import { describe, expect, it } from 'vitest';
import { evidenceDirName, evidenceFileName, evidenceFolder, runEvidenceFolder } from './evidence-layout.ts';

describe('where evidence lives', () => {
  it("a line's folder is its words in lower case joined by single dashes, at most 64 characters, never ending in a dash", () => {
    expect(evidenceFolder('Auth + proxy path works through hypervisor.')).toBe('auth-proxy-path-works-through-hypervisor');
    const long = evidenceFolder('Hypervisor can route/swap between live/dev for rollback, health-gated, drained and recorded in the ledger.');
    expect(long.length).toBeLessThanOrEqual(64);
    expect(long).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
    expect(evidenceFolder('x'.repeat(63) + ' y')).toBe('x'.repeat(63));
    expect(evidenceFolder('...')).toBe('line');
    expect(evidenceFolder('  (WIP) Leading words')).toBe('wip-leading-words');
  });

  it('a file name keeps its extension, cannot climb out of its folder or hide, and is at most 120 characters', () => {
    expect(evidenceFileName('podman ps.txt')).toBe('podman-ps.txt');
    expect(evidenceFileName('../../etc/passwd')).toBe('etc-passwd');
    expect(evidenceFileName('.hidden.log')).toBe('hidden.log');
    expect(evidenceFileName('a'.repeat(200)).length).toBe(120);
    // A long name is cut before its extension, which it keeps.
    expect(evidenceFileName(`${'b'.repeat(200)}.json`)).toBe(`${'b'.repeat(115)}.json`);
    expect(evidenceFileName('///')).toBe('evidence');
  });

  it('keeps the run\'s own evidence in evidence/_target, a folder no checklist line can have', () => {
    expect(`${evidenceDirName}/${runEvidenceFolder}`).toBe('evidence/_target');
    for (const line of [runEvidenceFolder, 'target', 'Target', '_target_']) expect(evidenceFolder(line)).not.toBe(runEvidenceFolder);
  });
});
