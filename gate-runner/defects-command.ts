import { phaseById } from '../suites/phases.ts';
import { ciRunLink } from './ci-run-link.ts';
import { gateTargetFromEnv, remoteAdminToken } from './gate-target.ts';
import { leftoverGateUsersMarkdown, sweepGateUsers, type GateUser } from './gate-users.ts';
import { githubIssuesFromEnv } from './github-issues.ts';
import { latestRun } from './latest-run.ts';
import { reportLineDefects } from './line-defects.ts';

export const defectsUsage = 'usage: npm run gate -- defects <phase>   (after a run: removes gate users left on the target, then opens or comments on one defect issue per failing line; needs GITHUB_TOKEN and GITHUB_REPOSITORY)';

/** Removes the gate users a run (or an interrupted one) left on a deployed target; what stays is listed. */
async function leftoverGateUsers(env: NodeJS.ProcessEnv): Promise<{ notes: string; left: GateUser[] }> {
  const target = gateTargetFromEnv(env);
  if (target.kind !== 'remote' || !target.url) return { notes: '', left: [] };
  try {
    const sweep = await sweepGateUsers(target.url, remoteAdminToken(env));
    if (sweep.removed.length) console.log(`gate defects: removed ${sweep.removed.length} gate user(s) left on ${target.url}: ${sweep.removed.map((user) => user.username).join(', ')}`);
    return { notes: leftoverGateUsersMarkdown(sweep.left, target.url), left: sweep.left };
  } catch (error) {
    const notes = `## Gate users on ${target.url}\n\nCould not list or remove the gate users: ${(error as Error).message}. List them with \`GET /admin/users?prefix=gate-\` and remove each with \`DELETE /admin/users/<id>\`.\n`;
    return { notes, left: [] };
  }
}

/** `npm run gate -- defects <phase>`: exit 0 once GitHub is up to date with the latest run, 2 on bad input. */
export async function defectsCommand(args: readonly string[], gatesDir: string, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const [phaseId, ...rest] = args;
  if (!phaseId || rest.length) {
    console.error(`gate defects: ${phaseId ? `unexpected argument(s) ${rest.join(' ')}` : 'no phase given'}. ${defectsUsage}`);
    return 2;
  }
  const phase = phaseById(phaseId);
  const github = githubIssuesFromEnv(env);
  if (!github) {
    console.error(`gate defects: GITHUB_TOKEN and GITHUB_REPOSITORY must both be set to open or update defect issues. ${defectsUsage}`);
    return 2;
  }
  const target = gateTargetFromEnv(env);
  const run = await latestRun(gatesDir, phase, target.id);
  const leftovers = await leftoverGateUsers(env);
  const actions = await reportLineDefects({ verdict: run.verdict, github, runLink: ciRunLink(env), evidenceBaseUrl: env.GATE_EVIDENCE_BASE_URL, notes: leftovers.notes });
  for (const action of actions) console.log(`gate defects: ${action.action} #${action.issue} for "${action.line}": ${action.url}`);
  console.log(`gate defects: ${phase.id} run ${run.entry.runId} on ${target.id} ${run.verdict.passed ? 'passed' : 'failed'}; ${actions.length} issue update(s).`);
  return 0;
}
