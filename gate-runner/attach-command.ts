import { phaseById } from '../suites/phases.ts';
import { attachSummary } from './attach-summary.ts';
import { ciRunLink } from './ci-run-link.ts';
import { gateTargetFromEnv } from './gate-target.ts';
import { githubIssuesFromEnv } from './github-issues.ts';

export const attachUsage = 'usage: npm run gate -- attach <phase> <issue number>   (posts the phase\'s latest summary.md for the target as a comment; needs GITHUB_TOKEN and GITHUB_REPOSITORY)';

/** `npm run gate -- attach <phase> <issue>`: exit 0 once the comment is posted, 2 on bad input. */
export async function attachCommand(args: readonly string[], gatesDir: string, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const [phaseId, issueText, ...rest] = args;
  if (!phaseId || !issueText || rest.length || !/^[1-9]\d*$/.test(issueText)) {
    console.error(`gate attach: ${!phaseId ? 'no phase given' : !issueText ? 'no issue number given' : rest.length ? `unexpected argument(s) ${rest.join(' ')}` : `"${issueText}" is not an issue number`}. ${attachUsage}`);
    return 2;
  }
  const phase = phaseById(phaseId);
  const github = githubIssuesFromEnv(env);
  if (!github) {
    console.error(`gate attach: GITHUB_TOKEN and GITHUB_REPOSITORY must both be set to comment on issue #${issueText}. ${attachUsage}`);
    return 2;
  }
  const target = gateTargetFromEnv(env);
  const posted = await attachSummary({ gatesDir, phase, targetId: target.id, issue: Number(issueText), github, runLink: ciRunLink(env) });
  console.log(`gate attach: ${phase.id} run ${posted.runId} on ${target.id} attached to #${issueText}: ${posted.commentUrl}`);
  return 0;
}
