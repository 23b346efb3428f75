import { runsAsScript } from '../hypervisor/paths.ts';
import { GateRefusedError } from './gate-refused.ts';
import { gateTargetDescription, gateTargetFromEnv } from './gate-target.ts';
import { GitHubClient } from './github/client.ts';
import { githubConnection } from './github/connection.ts';
import { GitHubError } from './github/errors.ts';
import { flakesCheckName, promoteFlakesCheck } from './github/required-check.ts';
import { gatesDirIn, reportsDirFromEnv } from './reports-dir.ts';

/** Where promote-check writes: its report lines, and why it refused. */
export interface PromoteCheckOutput {
  out(line: string): void;
  err(line: string): void;
}

const consoleOutput: PromoteCheckOutput = { out: (line) => console.log(line), err: (line) => console.error(line) };

/**
 * `npm run promote-check`: makes the flakes workflow a required check on the target's GitHub
 * repository (GATE_TARGET's `github` section, or GATE_GITHUB_REPOSITORY with GITHUB_TOKEN), once
 * the Phase 2 gate passed for that target. Then remove `continue-on-error` from flakes.yml.
 * Resolves with the exit code: 0 promoted, 1 refused (no passing Phase 2 run, no repository, or
 * GitHub said no), each refusal named on one line; anything else is a fault and is thrown.
 */
export async function runPromoteCheck(env: NodeJS.ProcessEnv = process.env, output: PromoteCheckOutput = consoleOutput): Promise<number> {
  const gatesDir = gatesDirIn(reportsDirFromEnv(env));
  try {
    const description = gateTargetDescription(env);
    const connection = githubConnection(description, env);
    if (!connection) throw new GitHubError(`target ${description.name} has no GitHub repository: add a "github" section to targets/${description.name}.json (targets/README.md) or set GATE_GITHUB_REPOSITORY and GITHUB_TOKEN.`);
    const promotion = await promoteFlakesCheck(new GitHubClient(connection), gateTargetFromEnv(env), gatesDir);
    output.out(`"${flakesCheckName}" is now required on ${promotion.repository}@${promotion.branch} (required checks: ${promotion.contexts.join(', ')}), allowed by the Phase 2 gate run ${promotion.phase2RunId}.`);
    output.out('Next: remove `continue-on-error: true` from .github/workflows/flakes.yml so a failing build fails the check.');
    return 0;
  } catch (error) {
    if (error instanceof GateRefusedError || error instanceof GitHubError) {
      output.err(`promote-check: ${error.message}`);
      return 1;
    }
    throw error;
  }
}

if (runsAsScript(import.meta.url)) process.exitCode = await runPromoteCheck();
