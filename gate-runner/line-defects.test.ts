import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { phaseById } from '../suites/phases.ts';
import { GitHubIssueError } from './github-issues.ts';
import { defectLabels, lineMarker, reportLineDefects } from './line-defects.ts';
import { sampleRun, tempDir } from './sample-run.ts';
import { LocalGitHub } from './github/local-github.ts';

const phase5 = phaseById('phase5');
const [firstLine, secondLine] = phase5.checklist.map((line) => line.text) as [string, string];

let github: LocalGitHub;
const config = () => ({ apiUrl: github.apiUrl, owner: 'choiros', repo: 'gates', token: github.token, workflow: 'flakes.yml', branch: 'main' });

beforeEach(async () => {
  // Two issues a page, so every listing below crosses pages.
  github = await new LocalGitHub().start();
  github.repositories.add('choiros/gates');
  github.pageSize = 2;
  github.seed('choiros/gates', { title: 'unrelated defect', body: 'not the gate', labels: defectLabels('phase5') });
  github.seed('choiros/gates', { title: 'another one', body: 'not the gate either', labels: defectLabels('phase5') });
});

afterEach(() => github.stop());

async function night(options: { failing: string[]; runId: string; targetId?: string }) {
  const verdict = await sampleRun(phase5, await tempDir('night'), options);
  return reportLineDefects({ verdict, github: config(), runLink: 'https://github.com/choiros/gates/actions/runs/99', evidenceBaseUrl: undefined, notes: '## Gate users left on https://choir.example.com\n\n- `gate-1a2b`' });
}

const gateIssues = () => github.issues.filter((issue) => issue.body.includes('choiros-gate-line'));

describe('nightly defects, one per failing line and target (local GitHub REST stand-in)', () => {
  it('opens one defect issue per failing line, marked with its line and target (local GitHub REST stand-in)', async () => {
    const actions = await night({ failing: [firstLine, secondLine], runId: 'night-1' });
    expect(actions.map((action) => action.action)).toEqual(['opened', 'opened']);
    expect(gateIssues()).toHaveLength(2);
    const [issue] = gateIssues();
    expect(issue?.title).toBe(`Gate line failing on local: ${firstLine}`.slice(0, 250));
    expect(issue?.labels.map((label) => label.name)).toEqual(['defect', 'gate:phase5']);
    expect(issue?.body).toContain(lineMarker('phase5', 'local', firstLine));
    expect(issue?.body).toContain('[CI run](https://github.com/choiros/gates/actions/runs/99)');
    expect(issue?.body).toContain(`Error: ${firstLine} broke`);
    expect(issue?.body).toContain('Gate users left on https://choir.example.com');
  });

  it('comments on the issue already open for that line and target instead of opening another (local GitHub REST stand-in)', async () => {
    await night({ failing: [firstLine], runId: 'night-1' });
    const actions = await night({ failing: [firstLine], runId: 'night-2' });
    expect(actions).toEqual([expect.objectContaining({ action: 'commented', line: firstLine })]);
    expect(gateIssues()).toHaveLength(1);
    expect(gateIssues()[0]?.comments[0]?.body).toContain('Still failing on `local`: run `night-2`');
  });

  it('opens a separate issue for the same line failing on another target (local GitHub REST stand-in)', async () => {
    await night({ failing: [firstLine], runId: 'night-1' });
    await night({ failing: [firstLine], runId: 'night-1', targetId: 'production' });
    expect(gateIssues().map((issue) => issue.title)).toEqual([`Gate line failing on local: ${firstLine}`, `Gate line failing on production: ${firstLine}`].map((title) => title.slice(0, 250)));
  });

  it('on a pass after failures says so on the open issue and closes it; a green night after that is quiet (local GitHub REST stand-in)', async () => {
    await night({ failing: [firstLine], runId: 'night-1' });
    const actions = await night({ failing: [], runId: 'night-2' });
    expect(actions).toEqual([expect.objectContaining({ action: 'resolved', line: firstLine })]);
    const [issue] = gateIssues();
    expect(issue?.comments.at(-1)?.body).toContain('Passes again on `local`: run `night-2`');
    expect(issue).toMatchObject({ state: 'closed', state_reason: 'completed' });
    const before = github.received.length;
    expect(await night({ failing: [], runId: 'night-3' })).toEqual([]);
    expect(github.received.slice(before).every((sent) => sent.method === 'GET')).toBe(true);
  });

  it('says in the issue and in each comment that the failing line was proven on a stand-in, and quotes at most 4000 characters of its error (local GitHub REST stand-in)', async () => {
    const standIn = 'moto stood in for EC2 and Route 53';
    const longError = `Error: ${firstLine} broke\n${'y'.repeat(5000)}`;
    const failingOnStandIn = async (runId: string) => {
      const verdict = await sampleRun(phase5, await tempDir('night'), { failing: [firstLine], runId, standIns: { [firstLine]: standIn } });
      const lines = verdict.lines.map((line) => (line.line === firstLine ? { ...line, status: 'failed' as const, error: longError } : line));
      return reportLineDefects({ verdict: { ...verdict, lines }, github: config(), runLink: undefined, evidenceBaseUrl: undefined });
    };
    await failingOnStandIn('night-1');
    await failingOnStandIn('night-2');
    const [issue] = gateIssues();
    for (const text of [issue?.body ?? '', issue?.comments[0]?.body ?? '']) {
      expect(text).toContain(`Proven on a stand-in: ${standIn}.`);
      expect(text).toContain(`\`\`\`text\n${longError.slice(0, 4000)}\n\`\`\``);
    }
  });

  it('counts a broken line as failing, names the commit by 12 hex digits, and keeps a long title within 250 characters (local GitHub REST stand-in)', async () => {
    const verdict = await sampleRun(phase5, await tempDir('night'), { otherwise: { [firstLine]: 'broken' }, runId: 'night-1', targetId: 'a'.repeat(300) });
    const actions = await reportLineDefects({ verdict, github: config(), runLink: undefined, evidenceBaseUrl: undefined });
    expect(actions.map((action) => action.line)).toEqual([firstLine]);
    const [issue] = gateIssues();
    expect(issue?.body).toContain('at commit `0123456789ab`,');
    expect(issue?.title).toHaveLength(250);
  });

  it('keeps the marker one invisible HTML comment whatever the target is called', () => {
    const marker = lineMarker('phase5', 'staging --> eu <!-- x', firstLine);
    expect(marker.startsWith('<!-- choiros-gate-line ')).toBe(true);
    expect(marker.indexOf('-->')).toBe(marker.length - 3);
    expect(marker.lastIndexOf('<!--')).toBe(0);
  });

  it('a token GitHub refuses is an error naming the call and what to check (local GitHub REST stand-in)', async () => {
    const verdict = await sampleRun(phase5, await tempDir('night'), { failing: [firstLine] });
    const attempt = reportLineDefects({ verdict, github: { ...config(), token: 'wrong' }, runLink: undefined, evidenceBaseUrl: undefined });
    await expect(attempt).rejects.toThrow(GitHubIssueError);
    await expect(reportLineDefects({ verdict, github: { ...config(), token: 'wrong' }, runLink: undefined, evidenceBaseUrl: undefined })).rejects.toThrow(/GitHub refused to list the open issues \(GitHub refused the token .*-> 401\): \{"message":"Bad credentials".*Check that GITHUB_TOKEN may read issues of choiros\/gates/);
  });
});
