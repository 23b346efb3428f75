import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { phaseById } from '../suites/phases.ts';
import { attachmentBody, attachSummary } from './attach-summary.ts';
import { ciRunLink } from './ci-run-link.ts';
import { GitHubIssueError } from './github-issues.ts';
import { NoRecordedRunError } from './latest-run.ts';
import { tempDir } from './sample-run.ts';
import { LocalGitHub } from './github/local-github.ts';
import { recordedRun } from './testing/recorded-runs.ts';

const phase1 = phaseById('phase1');
let github: LocalGitHub;
const config = () => ({ apiUrl: github.apiUrl, owner: 'choiros', repo: 'gates', token: github.token, workflow: 'flakes.yml', branch: 'main' });

beforeEach(async () => {
  github = await new LocalGitHub().start();
  github.repositories.add('choiros/gates');
  github.seed('choiros/gates', { title: 'Phase 1: Local Podman Smoke', body: 'the phase issue', labels: [] });
});

afterEach(() => github.stop());

describe('attaching a phase summary to its issue (local GitHub REST stand-in)', () => {
  it('posts the latest run\'s summary.md for the target as a comment, with the CI run link (local GitHub REST stand-in)', async () => {
    const gatesDir = path.join(await tempDir('attach'), 'gates');
    await recordedRun(gatesDir, phase1, { runId: 'run-old', failing: [phase1.checklist[0]?.text ?? ''], endedAt: new Date('2026-02-19T10:00:00Z') });
    await recordedRun(gatesDir, phase1, { runId: 'run-new', endedAt: new Date('2026-02-20T10:00:00Z') });
    await recordedRun(gatesDir, phase1, { runId: 'run-other-target', targetId: 'production', endedAt: new Date('2026-02-21T10:00:00Z') });
    const runLink = ciRunLink({ GITHUB_ACTIONS: 'true', GITHUB_SERVER_URL: 'https://github.com', GITHUB_REPOSITORY: 'choiros/gates', GITHUB_RUN_ID: '1234' });

    const posted = await attachSummary({ gatesDir, phase: phase1, targetId: 'local', issue: 1, github: config(), runLink });

    expect(posted.runId).toBe('run-new');
    const comment = github.issues[0]?.comments[0]?.body ?? '';
    expect(comment).toContain('## Phase 1: Local Podman Smoke: gate PASSED');
    expect(comment).toContain('run `run-new`');
    expect(comment).toContain('artifacts of [this CI run](https://github.com/choiros/gates/actions/runs/1234)');
    expect(posted.commentUrl).toContain('https://github.com/choiros/gates/issues/1#issuecomment-');
  });

  it('outside CI says where the report is instead of linking one', () => {
    expect(ciRunLink({ GITHUB_REPOSITORY: 'choiros/gates', GITHUB_RUN_ID: '1' })).toBeUndefined();
    expect(attachmentBody('## Phase 1: gate PASSED\n\n', 'run-7', undefined)).toBe(
      '## Phase 1: gate PASSED\n\n---\nRun outside CI: the Allure report, verdict and evidence are on the machine that ran it. Posted by `npm run gate -- attach` for run `run-7`.\n',
    );
  });

  it('an issue that does not exist is an error naming the issue (local GitHub REST stand-in)', async () => {
    const gatesDir = path.join(await tempDir('attach'), 'gates');
    await recordedRun(gatesDir, phase1, { runId: 'run-1' });
    const attempt = attachSummary({ gatesDir, phase: phase1, targetId: 'local', issue: 77, github: config(), runLink: undefined });
    await expect(attempt).rejects.toThrow(GitHubIssueError);
    await expect(attachSummary({ gatesDir, phase: phase1, targetId: 'local', issue: 77, github: config(), runLink: undefined })).rejects.toThrow(/comment on issue #77 .*-> 404.*Check that the issue exists/);
  });

  it('with no run of the phase for the target it says which run to make', async () => {
    const gatesDir = path.join(await tempDir('attach'), 'gates');
    await expect(attachSummary({ gatesDir, phase: phase1, targetId: 'local', issue: 1, github: config(), runLink: undefined })).rejects.toThrow(NoRecordedRunError);
    expect(github.received).toHaveLength(0);
  });
});
