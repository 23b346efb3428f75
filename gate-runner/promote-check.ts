import { GateRefusedError } from './gate-refused.ts';
import { gateTargetDescription, gateTargetFromEnv } from './gate-target.ts';
import { GitHubClient } from './github/client.ts';
import { githubConnection } from './github/connection.ts';
import { GitHubError } from './github/errors.ts';
import { flakesCheckName, promoteFlakesCheck } from './github/required-check.ts';
import { gatesDirIn, reportsDirFromEnv } from './reports-dir.ts';

/**
 * `npm run promote-check`: makes the flakes workflow a required check on the target's GitHub
 * repository (GATE_TARGET's `github` section, or GATE_GITHUB_REPOSITORY with GITHUB_TOKEN), once
 * the Phase 2 gate passed for that target. Then remove `continue-on-error` from flakes.yml.
 */
const gatesDir = gatesDirIn(reportsDirFromEnv());
try {
  const description = gateTargetDescription();
  const connection = githubConnection(description);
  if (!connection) throw new GitHubError(`target ${description.name} has no GitHub repository: add a "github" section to targets/${description.name}.json (targets/README.md) or set GATE_GITHUB_REPOSITORY and GITHUB_TOKEN.`);
  const promotion = await promoteFlakesCheck(new GitHubClient(connection), gateTargetFromEnv(), gatesDir);
  console.log(`"${flakesCheckName}" is now required on ${promotion.repository}@${promotion.branch} (required checks: ${promotion.contexts.join(', ')}), allowed by the Phase 2 gate run ${promotion.phase2RunId}.`);
  console.log('Next: remove `continue-on-error: true` from .github/workflows/flakes.yml so a failing build fails the check.');
} catch (error) {
  if (error instanceof GateRefusedError || error instanceof GitHubError) {
    console.error(`promote-check: ${error.message}`);
    process.exit(1);
  }
  throw error;
}
