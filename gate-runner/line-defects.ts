import { createHash } from 'node:crypto';
import { closeIssue, commentOnIssue, listOpenIssues, openIssue } from './github-issues.ts';
import type { GitHubConnection } from './github/connection.ts';
import { evidenceLink } from './summary.ts';
import type { LineVerdict, Verdict } from './verdict.ts';

export interface LineDefectRequest {
  verdict: Verdict;
  github: GitHubConnection;
  /** This CI run's page, linked from every issue and comment; undefined outside CI. */
  runLink: string | undefined;
  evidenceBaseUrl: string | undefined;
  /** Markdown added to new defects and comments (e.g. gate users left on the target). */
  notes?: string;
}

export interface LineDefectAction {
  line: string;
  action: 'opened' | 'commented' | 'resolved';
  issue: number;
  url: string;
}

/**
 * Identifies the defect of one line on one target in the issue body, invisible when rendered, so a
 * later night finds it again whatever a person does to the title.
 */
export function lineMarker(phaseId: string, targetId: string, line: string): string {
  const digest = createHash('sha256').update(line).digest('hex').slice(0, 16);
  return `<!-- choiros-gate-line phase=${phaseId} target=${encodeURIComponent(targetId)} line=${digest} -->`;
}

export const defectLabels = (phaseId: string): string[] => ['defect', `gate:${phaseId}`];

const failing = (line: LineVerdict): boolean => line.status !== 'passed';

const runSentence = (verdict: Verdict, runLink: string | undefined): string =>
  `run \`${verdict.runId}\`${runLink ? ` ([CI run](${runLink}))` : ''} at commit \`${verdict.commit.sha.slice(0, 12)}\`, ${verdict.endedAt}`;

function failureDetails(line: LineVerdict, request: LineDefectRequest): string[] {
  const out = [`Status: **${line.status}**`];
  if (line.error) out.push('', '```text', line.error.slice(0, 4000), '```');
  if (line.standIn) out.push('', `Proven on a stand-in: ${line.standIn}.`);
  if (line.evidence.length) out.push('', `Evidence: ${line.evidence.map((file) => evidenceLink(file, request.evidenceBaseUrl)).join(', ')}`);
  if (request.notes) out.push('', request.notes);
  return out;
}

/**
 * The nightly's defect rule: each failing line gets its own issue for this target, or a comment on
 * the one already open for it; a line that passes again gets a comment saying so and its issue is
 * closed, so a green night leaves no open defect behind and stays quiet.
 */
export async function reportLineDefects(request: LineDefectRequest): Promise<LineDefectAction[]> {
  const { verdict, github } = request;
  const phaseId = verdict.phase.id;
  const open = await listOpenIssues(github, defectLabels(phaseId));
  const actions: LineDefectAction[] = [];
  for (const line of verdict.lines) {
    const marker = lineMarker(phaseId, verdict.target.id, line.line);
    const existing = open.find((issue) => issue.body.includes(marker));
    if (failing(line)) {
      if (existing) {
        const url = await commentOnIssue(github, existing.number, [`Still failing on \`${verdict.target.id}\`: ${runSentence(verdict, request.runLink)}.`, '', ...failureDetails(line, request)].join('\n'));
        actions.push({ line: line.line, action: 'commented', issue: existing.number, url });
      } else {
        const title = `Gate line failing on ${verdict.target.id}: ${line.line}`.slice(0, 250);
        const body = [
          marker,
          `**${verdict.phase.title}**, line:`,
          '',
          `> ${line.line}`,
          '',
          `Failed on target \`${verdict.target.id}\` in ${runSentence(verdict, request.runLink)}.`,
          '',
          ...failureDetails(line, request),
          '',
          'The nightly comments here while the line keeps failing, and closes this issue when it passes again.',
        ].join('\n');
        const opened = await openIssue(github, { title, body: `${body}\n`, labels: defectLabels(phaseId) });
        actions.push({ line: line.line, action: 'opened', issue: opened.number, url: opened.url });
      }
    } else if (existing) {
      const url = await commentOnIssue(github, existing.number, `Passes again on \`${verdict.target.id}\`: ${runSentence(verdict, request.runLink)}. Closing.`);
      await closeIssue(github, existing.number);
      actions.push({ line: line.line, action: 'resolved', issue: existing.number, url });
    }
  }
  return actions;
}
