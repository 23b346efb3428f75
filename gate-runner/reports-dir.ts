import path from 'node:path';
import { repoRoot } from '../hypervisor/paths.ts';

/**
 * Where a gate run writes: GATE_REPORTS_DIR (default reports/ in the checkout, relative to it; also
 * read by playwright.config.ts) moves results, report, verdicts and the ledger together, e.g. to a
 * CI cache that outlives the checkout.
 */
export function reportsDirFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(repoRoot, env.GATE_REPORTS_DIR?.trim() || 'reports');
}

/** The verdicts and the ledger, under the reports directory. */
export const gatesDirIn = (reportsDir: string): string => path.join(reportsDir, 'gates');
