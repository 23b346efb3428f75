import type { TestOutcome } from './allure-results.ts';

/**
 * Where a gate line was proven, carried as Allure labels from the test to the verdict, summary.md
 * and the report. `place` names what was exercised (e.g. "GitHub repository choiros/gates",
 * "local HTTP binary cache on this machine"); `standIn` is set whenever something here stood in for
 * the real thing, and says what for what (e.g. "a Debian systemd-nspawn host stood in for the NixOS
 * EC2 host"). Local evidence must never read as production evidence.
 */
export interface ProvenOn {
  place: string;
  standIn?: string;
}

export const provenOnLabel = 'proven-on';
export const standInLabel = 'stand-in';

/** The places and stand-ins the results of one line declared (several results: every distinct one). */
export function provenOnOf(results: readonly TestOutcome[]): { provenOn: string | undefined; standIn: string | undefined } {
  const distinct = (label: string): string | undefined => {
    const values = [...new Set(results.flatMap((r) => r.labels[label] ?? []))];
    return values.length ? values.join('; ') : undefined;
  };
  return { provenOn: distinct(provenOnLabel), standIn: distinct(standInLabel) };
}
