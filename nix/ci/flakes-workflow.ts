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

export type Truth = boolean | 'unknown';

/** The status functions as they stand once an earlier step of the job failed (not cancelled). */
const afterFailure: Record<string, boolean> = { 'success()': false, 'failure()': true, 'always()': true, 'cancelled()': false };

/**
 * Evaluates a step condition with !, &&, || and parentheses, three-valued: the status functions as
 * after a failed step, any other term (a comparison, a context value) unknown. Throws on a shape it
 * cannot read, so a condition is never judged by a misreading.
 */
function evaluate(expression: string, term: (text: string) => Truth): Truth {
  const tokens = expression.match(/&&|\|\||!(?!=)|\(|\)|(?:[^&|!()\s]|!=)+(?:\(\))?/g) ?? [];
  let at = 0;
  const not = (t: Truth): Truth => (t === 'unknown' ? t : !t);
  const and = (a: Truth, b: Truth): Truth => (a === false || b === false ? false : a === true && b === true ? true : 'unknown');
  const or = (a: Truth, b: Truth): Truth => (a === true || b === true ? true : a === false && b === false ? false : 'unknown');
  const primary = (): Truth => {
    const token = tokens[at++];
    if (token === undefined) throw new Error(`the condition "${expression}" ends too early`);
    if (token === '!') return not(primary());
    if (token === '(') {
      const inner = disjunction();
      if (tokens[at++] !== ')') throw new Error(`the condition "${expression}" has an unclosed parenthesis`);
      return inner;
    }
    if (/^[\w.]+\(\)$/.test(token)) return term(token);
    // A comparison reads as one term of several tokens (a == 'b'): take them up to the next operator.
    const start = at - 1;
    while (tokens[at] !== undefined && !['&&', '||', ')'].includes(tokens[at] as string)) at += 1;
    return term(tokens.slice(start, at).join(' '));
  };
  const conjunction = (): Truth => {
    let value = primary();
    while (tokens[at] === '&&') {
      at += 1;
      value = and(value, primary());
    }
    return value;
  };
  const disjunction = (): Truth => {
    let value = conjunction();
    while (tokens[at] === '||') {
      at += 1;
      value = or(value, conjunction());
    }
    return value;
  };
  const value = disjunction();
  if (at !== tokens.length) throw new Error(`the condition "${expression}" has more after its end: ${tokens.slice(at).join(' ')}`);
  return value;
}

/**
 * Whether a step's condition can run it after an earlier step of the job failed. GitHub puts
 * success() && before a condition that names no status function (and uses success() when there is
 * none), which skips the step; otherwise the condition decides, with terms this cannot know taken as
 * "may run".
 */
export function runsAfterFailure(condition: string | undefined): boolean {
  if (condition === undefined) return false;
  const expression = unwrap(condition);
  const namesStatus = /\b(success|failure|always|cancelled)\(\)/.test(expression);
  const term = (text: string): Truth => (text in afterFailure ? (afterFailure[text] as boolean) : 'unknown');
  return evaluate(namesStatus ? expression : `success() && (${expression})`, term) !== false;
}

/** The condition's expression without its `${{ }}` wrapper. */
function unwrap(condition: string): string {
  return condition.trim().replace(/^\$\{\{([\s\S]*)\}\}$/, '$1').trim();
}

/**
 * A job's `if:` for a run started by `event`, its needs all succeeded: true when it certainly runs,
 * false when it certainly does not, 'unknown' when it turns on something else (a context value).
 * Reads the status functions and comparisons of github.event_name with a string.
 */
export function jobRunsFor(condition: string | boolean | undefined, event: string): Truth {
  if (condition === undefined || condition === true) return true;
  if (condition === false) return false;
  const statusBeforeAnyFailure: Record<string, boolean> = { 'success()': true, 'always()': true, 'failure()': false, 'cancelled()': false };
  const term = (text: string): Truth => {
    if (text in statusBeforeAnyFailure) return statusBeforeAnyFailure[text] as boolean;
    if (text === 'true' || text === 'false') return text === 'true';
    const comparison = /^(?:github\.event_name (==|!=) '([^']*)'|'([^']*)' (==|!=) github\.event_name)$/.exec(text);
    if (!comparison) return 'unknown';
    const operator = comparison[1] ?? comparison[4];
    const named = comparison[2] ?? comparison[3];
    return (named === event) === (operator === '==');
  };
  const expression = unwrap(String(condition));
  const namesStatus = /\b(success|failure|always|cancelled)\(\)/.test(expression);
  return evaluate(namesStatus ? expression : `success() && (${expression})`, term);
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
