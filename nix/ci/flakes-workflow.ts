import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { fromRoot } from '../../hypervisor/paths.ts';

export const flakesWorkflowFile = fromRoot('.github', 'workflows', 'flakes.yml');

export interface Step {
  name?: string;
  uses?: string;
  run?: string;
  /** The step's `shell:` (undefined: the job's or workflow's `defaults.run.shell`, else GitHub's `bash -e`). */
  shell?: string;
  if?: string | boolean;
  with?: Record<string, string | number | boolean>;
}

export interface Job {
  name?: string;
  if?: string | boolean;
  'continue-on-error'?: boolean | string;
  permissions?: Record<string, string>;
  defaults?: { run?: { shell?: string } };
  steps?: Step[];
}

/** What Phase 2's Tasks lines ask of the flakes workflow, read from the file itself. */
export interface FlakesWorkflowFacts {
  file: string;
  text: string;
  /** The build job's token permissions: the job's own `permissions:` when it has one (GitHub then ignores the workflow's), else the workflow's. */
  permissions: Record<string, string>;
  usesNixInstaller: boolean;
  usesFlakeHubCache: boolean;
  buildJobName: string | undefined;
  continueOnError: boolean;
  /** The build step's command (builds all three flake directories). */
  buildRun: string | undefined;
  /** The shell the build step runs in as declared (step, job or workflow defaults); undefined: GitHub's `bash -e`, without pipefail. */
  buildShell: string | undefined;
  /** The step that writes the job summary with this project's code. */
  summaryRun: string | undefined;
  /** That step's `if:` condition, as written (undefined: none, GitHub's default success()). */
  summaryIf: string | undefined;
  /** The workflow's `on:` as parsed (a string, a list or a map of events), read by fixtures/workflow-triggers.ts. */
  on: unknown;
  /** The build job's steps, in the order they run. */
  buildSteps: Step[];
  /** Every job, by id, as parsed. */
  jobs: Record<string, Job>;
}

export function readFlakesWorkflow(file = flakesWorkflowFile): FlakesWorkflowFacts {
  const text = readFileSync(file, 'utf8');
  const doc = parse(text) as { on?: unknown; permissions?: Record<string, string>; defaults?: { run?: { shell?: string } }; jobs?: Record<string, Job> };
  const jobs = Object.values(doc.jobs ?? {});
  const build = jobs.find((job) => (job.steps ?? []).some((s) => s.uses?.startsWith('DeterminateSystems/flakehub-cache-action'))) ?? jobs[0];
  const steps = build?.steps ?? [];
  const summary = steps.find((s) => s.run?.includes('GITHUB_STEP_SUMMARY'));
  return {
    file,
    text,
    // A job's permissions replace the workflow's whole map, they do not add to it (GitHub's rule).
    permissions: build?.permissions ?? doc.permissions ?? {},
    usesNixInstaller: steps.some((s) => s.uses?.startsWith('DeterminateSystems/nix-installer-action@') ?? false),
    usesFlakeHubCache: steps.some((s) => s.uses?.startsWith('DeterminateSystems/flakehub-cache-action@') ?? false),
    buildJobName: build?.name,
    continueOnError: build?.['continue-on-error'] === true || build?.['continue-on-error'] === 'true',
    buildRun: steps.find((s) => s.run?.includes('nix build'))?.run,
    buildShell: steps.find((s) => s.run?.includes('nix build'))?.shell ?? build?.defaults?.run?.shell ?? doc.defaults?.run?.shell,
    summaryRun: summary?.run,
    summaryIf: summary?.if === undefined ? undefined : String(summary.if),
    on: doc.on,
    buildSteps: steps,
    jobs: doc.jobs ?? {},
  };
}
