import { describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fromRoot, repoRoot } from '../hypervisor/paths.ts';
import { lintWorkflows, workflowFiles } from './actionlint.ts';

const script = fromRoot('scripts', 'actionlint.ts');

function workflow(body: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'workflows-'));
  const file = path.join(dir, 'bad.yml');
  writeFileSync(file, body);
  return file;
}

describe('actionlint over the workflows (npm run lint)', () => {
  it('every workflow in .github/workflows is clean', async () => {
    const files = workflowFiles();
    expect(files.map((f) => path.basename(f))).toContain('flakes.yml');
    expect(await lintWorkflows(files)).toEqual([]);
  });

  it('a script injection fails with the finding, the file and the line', async () => {
    const file = workflow(['on: issues', 'jobs:', '  greet:', '    runs-on: ubuntu-24.04', '    steps:', '      - run: echo "${{ github.event.issue.title }}"', ''].join('\n'));
    const run = await execa(process.execPath, [script, file], { cwd: repoRoot, reject: false });
    expect(run.exitCode).toBe(1);
    // actionlint names the file relative to the working directory when it can: match its last two parts.
    const shown = path.join(path.basename(path.dirname(file)), path.basename(file)).replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    expect(run.stderr).toMatch(new RegExp(`${shown}:6:\\d+: "github.event.issue.title" is potentially untrusted.*\\[expression\\]`));
  });

  it('a typo fails with the finding, the file and the line', async () => {
    const file = workflow(['on: push', 'jobs:', '  build:', '    runs-on: ubuntu-24.04', '    strategy:', '      matrix:', '        output: [sandbox, desktop]', '    steps:', '      - run: echo ${{ matrix.outptu }}', ''].join('\n'));
    const run = await execa(process.execPath, [script, file], { cwd: repoRoot, reject: false });
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toMatch(/bad\.yml:9:\d+: property "outptu" is not defined in object type \{output: string\} \[expression\]/);
  });
});
