import { mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { repoRoot } from '../../hypervisor/paths.ts';

/**
 * A workspace like the one actions/checkout leaves: every top-level entry of the checkout linked
 * into a directory of its own, so what a step writes (build-logs/) lands there, not in the checkout.
 */
export function checkoutWorkspace(dir: string, checkout = repoRoot): string {
  mkdirSync(dir, { recursive: true });
  for (const entry of readdirSync(checkout)) symlinkSync(path.join(checkout, entry), path.join(dir, entry));
  return dir;
}

export interface StepRun {
  script: string;
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface StepOptions {
  workspace: string;
  /** Where the step's script file is written (outside the workspace, as the runner's temp dir is). */
  runnerTemp: string;
  env?: Readonly<Record<string, string>>;
  /** Directories put first on PATH (a local stand-in for a tool the runner has). */
  path?: readonly string[];
  /** The step's declared shell: `bash` runs `bash --noprofile --norc -eo pipefail`; undefined runs GitHub's default `bash -e` (no pipefail). */
  shell?: string;
}

/** GitHub's Linux runner's command for a `run:` step by its declared shell (docs: "jobs.<job_id>.steps[*].shell"). */
function shellArgs(shell: string | undefined): string[] {
  if (shell === undefined) return ['-e'];
  if (shell === 'bash') return ['--noprofile', '--norc', '-eo', 'pipefail'];
  throw new Error(`a workflow step declares shell: ${shell}; only bash (or none) is run here: declare shell: bash`);
}

/**
 * Runs one `run:` step of a workflow the way GitHub's Linux runner does (by its declared shell:
 * `bash -e` when none is declared, `bash --noprofile --norc -eo pipefail` for `shell: bash`, on the
 * script, in the workspace), with this process's Node first on PATH as actions/setup-node would put it.
 */
export async function runWorkflowStep(script: string, options: StepOptions): Promise<StepRun> {
  mkdirSync(options.runnerTemp, { recursive: true });
  const file = path.join(options.runnerTemp, `step-${readdirSync(options.runnerTemp).length + 1}.sh`);
  writeFileSync(file, script);
  const PATH = [...(options.path ?? []), path.dirname(process.execPath), process.env.PATH ?? ''].join(path.delimiter);
  const result = await execa('bash', [...shellArgs(options.shell), file], {
    cwd: options.workspace,
    env: { ...options.env, PATH, GITHUB_WORKSPACE: options.workspace, RUNNER_TEMP: options.runnerTemp },
    reject: false,
    stdin: 'ignore',
  });
  return { script, exitCode: result.exitCode ?? 1, stdout: String(result.stdout), stderr: String(result.stderr) };
}
