import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { fromRoot } from '../../hypervisor/paths.ts';

export const flakesWorkflowFile = fromRoot('.github', 'workflows', 'flakes.yml');

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  if?: string | boolean;
}

interface Job {
  name?: string;
  'continue-on-error'?: boolean | string;
  permissions?: Record<string, string>;
  steps?: Step[];
}

/** What Phase 2's Tasks lines ask of the flakes workflow, read from the file itself. */
export interface FlakesWorkflowFacts {
  file: string;
  text: string;
  permissions: Record<string, string>;
  usesNixInstaller: boolean;
  usesFlakeHubCache: boolean;
  buildJobName: string | undefined;
  continueOnError: boolean;
  /** The build step's command (builds all three flake directories). */
  buildRun: string | undefined;
  /** The step that writes the job summary with this project's code. */
  summaryRun: string | undefined;
  /** That step's `if:` condition, as written (undefined: none, GitHub's default success()). */
  summaryIf: string | undefined;
}

/**
 * Whether a step's condition runs it after an earlier step of the job failed. Without one GitHub
 * applies success(), which skips it; only these forms run it either way (a cancelled run aside).
 */
export function runsAfterFailure(condition: string | undefined): boolean {
  if (condition === undefined) return false;
  const expression = condition.trim().replace(/^\$\{\{([\s\S]*)\}\}$/, '$1').replace(/\s+/g, '');
  return ['always()', '!cancelled()', 'success()||failure()', 'failure()||success()'].includes(expression);
}

export function readFlakesWorkflow(file = flakesWorkflowFile): FlakesWorkflowFacts {
  const text = readFileSync(file, 'utf8');
  const doc = parse(text) as { permissions?: Record<string, string>; jobs?: Record<string, Job> };
  const jobs = Object.values(doc.jobs ?? {});
  const build = jobs.find((job) => (job.steps ?? []).some((s) => s.uses?.startsWith('DeterminateSystems/flakehub-cache-action'))) ?? jobs[0];
  const steps = build?.steps ?? [];
  const summary = steps.find((s) => s.run?.includes('GITHUB_STEP_SUMMARY'));
  return {
    file,
    text,
    permissions: { ...(doc.permissions ?? {}), ...(build?.permissions ?? {}) },
    usesNixInstaller: steps.some((s) => s.uses?.startsWith('DeterminateSystems/nix-installer-action@') ?? false),
    usesFlakeHubCache: steps.some((s) => s.uses?.startsWith('DeterminateSystems/flakehub-cache-action@') ?? false),
    buildJobName: build?.name,
    continueOnError: build?.['continue-on-error'] === true || build?.['continue-on-error'] === 'true',
    buildRun: steps.find((s) => s.run?.includes('nix build'))?.run,
    summaryRun: summary?.run,
    summaryIf: summary?.if === undefined ? undefined : String(summary.if),
  };
}
