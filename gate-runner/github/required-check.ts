import { phaseById } from '../../suites/phases.ts';
import { GateRefusedError } from '../gate-refused.ts';
import type { GateTargetIdentity } from '../gate-target.ts';
import { assertPredecessorPassed } from '../ledger.ts';
import type { GitHubClient } from './client.ts';
import { GitHubError } from './errors.ts';

/** The flakes workflow's job, as GitHub names its check (the job's `name:` in flakes.yml). */
export const flakesCheckName = 'build flakes';

export interface Promotion {
  repository: string;
  branch: string;
  contexts: string[];
  /** The Phase 2 gate run that allowed it. */
  phase2RunId: string;
}

interface StatusChecks {
  strict?: boolean;
  contexts?: string[];
}

/**
 * Makes the flakes check required on the target's branch (branch protection's required status
 * checks, GitHub REST), keeping any other required checks. Refuses unless the Phase 2 gate's latest
 * run for this target passed, so the check only becomes blocking once it is proven.
 */
export async function promoteFlakesCheck(client: GitHubClient, target: GateTargetIdentity, gatesDir: string): Promise<Promotion> {
  let phase2: { runId: string } | undefined;
  try {
    // Phase 3's precondition is exactly "Phase 2 passed for this target".
    phase2 = await assertPredecessorPassed(phaseById('phase3'), target, gatesDir);
  } catch (error) {
    if (!(error instanceof GateRefusedError)) throw error;
    const why = error.message.replace(/^phase3 \([^)]*\) cannot start for target [^:]+: /, '').replace(/ Run `npm run gate -- phase2`.*$/, '');
    throw new GateRefusedError(`refusing to make "${flakesCheckName}" a required check on ${client.repository}: ${why}. Run \`npm run gate -- phase2\` for target ${target.id} until it passes, then promote.`);
  }
  if (!phase2) throw new GateRefusedError('refusing to promote: no Phase 2 gate run found');
  const branch = client.connection.branch;
  const protectionPath = client.repoPath(`/branches/${encodeURIComponent(branch)}/protection`);
  let existing: StatusChecks | undefined;
  let protectedAlready = true;
  try {
    existing = (await client.request<{ required_status_checks?: StatusChecks | null }>('GET', protectionPath)).data?.required_status_checks ?? undefined;
  } catch (error) {
    if (!(error instanceof GitHubError) || !/-> 404/.test(error.message)) throw error;
    protectedAlready = false;
  }
  const contexts = [...new Set([...(existing?.contexts ?? []), flakesCheckName])];
  if (protectedAlready) {
    await client.request('PATCH', `${protectionPath}/required_status_checks`, { strict: existing?.strict ?? true, contexts });
  } else {
    await client.request('PUT', protectionPath, { required_status_checks: { strict: true, contexts }, enforce_admins: null, required_pull_request_reviews: null, restrictions: null });
  }
  return { repository: client.repository, branch, contexts, phase2RunId: phase2.runId };
}
