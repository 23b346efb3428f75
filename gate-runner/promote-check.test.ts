import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { recordPhase2Run } from '../fixtures/passed-phase2-ledger.ts';
import { repoRoot } from '../hypervisor/paths.ts';
import { LocalGitHub } from './github/local-github.ts';
import { flakesCheckName } from './github/required-check.ts';
import { runPromoteCheck } from './promote-check.ts';
import { gatesDirIn } from './reports-dir.ts';
import { tempDir } from './sample-run.ts';

const promoteCheckScript = fileURLToPath(new URL('./promote-check.ts', import.meta.url));

let github: LocalGitHub;
let reportsDir: string;

beforeEach(async () => {
  github = await new LocalGitHub().start();
  github.repositories.add('choiros/gates');
  reportsDir = await tempDir('promote-check');
});

afterEach(() => github.stop());

/** The local target (no GATE_TARGET), its ledger in a temp dir, and the repository named ad hoc on the stand-in. */
function env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { GATE_REPORTS_DIR: reportsDir, GATE_GITHUB_REPOSITORY: 'choiros/gates', GITHUB_TOKEN: github.token, GITHUB_API_URL: github.apiUrl, ...extra };
}

async function promoteCheck(environment: NodeJS.ProcessEnv) {
  const out: string[] = [];
  const err: string[] = [];
  const exitCode = await runPromoteCheck(environment, { out: (line) => out.push(line), err: (line) => err.push(line) });
  return { exitCode, out, err };
}

const changes = () => github.received.filter((request) => request.method !== 'GET');

describe('npm run promote-check', () => {
  it('refuses with 1 and changes nothing while no Phase 2 run passed for the target', async () => {
    const result = await promoteCheck(env());
    expect(result.exitCode).toBe(1);
    expect(result.out).toEqual([]);
    expect(result.err).toEqual([expect.stringMatching(new RegExp(`^promote-check: .*refusing to make "${flakesCheckName}" a required check`))]);
    expect(changes()).toEqual([]);
  });

  it('refuses with 1 naming the target and what to add when there is no GitHub repository to promote on', async () => {
    const result = await promoteCheck(env({ GATE_GITHUB_REPOSITORY: '' }));
    expect(result.exitCode).toBe(1);
    expect(result.err).toEqual(['promote-check: target local has no GitHub repository: add a "github" section to targets/local.json (targets/README.md) or set GATE_GITHUB_REPOSITORY and GITHUB_TOKEN.']);
    expect(github.received).toEqual([]);
  });

  it('refuses with 1 when the repository is named without a token, before asking GitHub anything', async () => {
    const result = await promoteCheck(env({ GITHUB_TOKEN: '' }));
    expect(result.exitCode).toBe(1);
    expect(result.err).toEqual([expect.stringContaining('GATE_GITHUB_REPOSITORY=choiros/gates is set but GITHUB_TOKEN is not')]);
    expect(github.received).toEqual([]);
  });

  it('after a passing Phase 2 run, makes the check required, says so with the run that allowed it and the next step, and exits 0', async () => {
    await recordPhase2Run(gatesDirIn(reportsDir), { kind: 'local', id: 'local' }, { runId: 'passed-phase2', day: '2026-01-01', firstLineFailed: false });
    const result = await promoteCheck(env());
    expect(result.err).toEqual([]);
    expect(result.exitCode).toBe(0);
    expect(result.out).toEqual([
      `"${flakesCheckName}" is now required on choiros/gates@main (required checks: ${flakesCheckName}), allowed by the Phase 2 gate run passed-phase2.`,
      'Next: remove `continue-on-error: true` from .github/workflows/flakes.yml so a failing build fails the check.',
    ]);
    expect(github.protections.get('choiros/gates#main')).toMatchObject({ required_status_checks: { contexts: [flakesCheckName] } });
  });

  it('refuses with 1 when the passing Phase 2 run was for another target', async () => {
    await recordPhase2Run(gatesDirIn(reportsDir), { kind: 'local', id: 'local' }, { runId: 'passed-phase2', day: '2026-01-01', firstLineFailed: false });
    const result = await promoteCheck(env({ GATE_TARGET_URL: 'https://choiros.example' }));
    expect(result.exitCode).toBe(1);
    expect(result.err).toEqual([expect.stringContaining(`refusing to make "${flakesCheckName}" a required check`)]);
    expect(changes()).toEqual([]);
  });

  it('as a script, exits with its code and writes the refusal to stderr', async () => {
    const result = await execa(process.execPath, [promoteCheckScript], { cwd: repoRoot, env: { ...process.env, GATE_TARGET: '', GATE_TARGET_URL: '', ...env() }, reject: false });
    expect(result.exitCode).toBe(1);
    expect(String(result.stdout)).toBe('');
    expect(String(result.stderr)).toContain(`promote-check: `);
    expect(String(result.stderr)).toContain(`refusing to make "${flakesCheckName}" a required check`);
  });
});
