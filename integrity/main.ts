import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { repoRoot } from '../hypervisor/paths.ts';
import { nixpkgsLibExpression } from '../hypervisor/nixos/nixpkgs-lib.ts';
import { phaseById, phases, UnknownPhaseError, type Phase } from '../suites/phases.ts';
import { acrossPhasesProblems, CatalogueError, catalogueProblems, linesToRun, loadCatalogueFile, loadCatalogues, loadUnseenDefects, type LineScope, type PhaseCatalogue } from './catalogue.ts';
import { runGateLines } from './gate-lines.ts';
import { InterruptedError, interruptedExitCode, Interruption } from './interruption.ts';
import { killRate, renderKillTable, type DefectRow } from './kill-table.ts';
import type { SeededDefect } from './seeded-defect.ts';
import { createRunStore } from './run-store.ts';
import { removeLeftovers } from './leftovers.ts';
import { ScratchCopy } from './scratch-copy.ts';
import { filesFailingOnlyWithDefect, runUnitTests, type UnitTestsOptions, type UnitTestsRun } from './unit-tests.ts';

/**
 * `npm run integrity [-- PHASE ...] [--defect ID ...]`: applies each seeded defect of the phases'
 * catalogues (suites/<phase>/defects.ts) alone to a scratch copy of this checkout, runs only the gate
 * lines meant to catch it, and prints caught/MISSED with the kill rate. First the same lines run on
 * the unmodified copy: a line that fails without any defect would make every catch meaningless.
 * Exit code: 0 every defect caught, 1 a defect missed or not run, 2 the catalogue or the baseline is
 * broken. It removes its scratch copy and its own podman store (integrity/run-store.ts), pass or fail.
 *
 * With --any-line every line of the phase runs for each defect, and a failure of any line is a catch:
 * the issue's measure for defects the suites have never seen ("the suites together"), whose writer
 * can only guess which line is meant. The lines that failed run a second time, and only a line that
 * fails again counts (FLAKY otherwise): any line of a whole phase is more likely to hit a flaky step.
 * The table still shows the lines the defect named.
 *
 * With --any-phase (unseen catalogues only) a defect runs every line of the first phase, and only if
 * none caught it, every line of the next, and so on (the phases named, in that order, or all five):
 * the suites together, literally. Each phase runs its baseline once, for the defects still uncaught.
 *
 * With --unit-only (unseen catalogues only) no gate line runs: each defect meets only the unit tests
 * that import the files it edits, by the same rule as above. Minutes instead of the lines' half hour,
 * for checking which defects new unit tests catch; a measure of the suites it is not.
 *
 * Not part of `npm test` or CI: see README.md ("Seeded defects") and .github/workflows/nightly.yml.
 */
const usage =
  'usage: npm run integrity [-- PHASE ...] [--defect ID ...]   (default: every phase with suites/<phase>/defects.ts)\n' +
  '       npm run integrity -- PHASE --catalogue FILE.ts       (defects the suites have never seen, instead of the phase\'s own)\n' +
  '       add --any-line to run every line of the phase for each defect (a failure of any line is a catch)\n' +
  '       npm run integrity -- [PHASE ...] --catalogue FILE.ts --any-phase   (every line of each phase in turn, until one catches it; default all phases)\n' +
  '       npm run integrity -- --catalogue FILE.ts --unit-only   (only the unit tests that import the edited files; no gate line runs)';

interface IntegrityArgs {
  phases: string[];
  defects: string[];
  catalogue: string | undefined;
  scope: LineScope;
  unitOnly: boolean;
}

function parseArgs(args: readonly string[]): IntegrityArgs {
  const phases: string[] = [];
  const defects: string[] = [];
  let catalogue: string | undefined;
  let scope: LineScope = 'meant';
  let unitOnly = false;
  for (let i = 0; i < args.length; i += 1) {
    const arg = args[i] ?? '';
    if (arg === '--any-line') {
      scope = scope === 'all' ? 'all' : 'phase';
    } else if (arg === '--any-phase') {
      scope = 'all';
    } else if (arg === '--unit-only') {
      unitOnly = true;
    } else if (arg === '--defect' || arg === '--catalogue') {
      const value = args[i + 1];
      if (!value) throw new CatalogueError(`${arg} needs a value. ${usage}`);
      if (arg === '--defect') defects.push(value);
      else catalogue = value;
      i += 1;
    } else if (arg.startsWith('-')) {
      throw new CatalogueError(`unknown option ${arg}. ${usage}`);
    } else {
      phases.push(arg);
    }
  }
  if (unitOnly) {
    if (catalogue === undefined) throw new CatalogueError(`--unit-only measures a catalogue of unseen defects; give it with --catalogue. ${usage}`);
    if (scope !== 'meant' || phases.length) throw new CatalogueError(`--unit-only runs no gate line, so it takes no phase, --any-line or --any-phase. ${usage}`);
    return { phases, defects, catalogue, scope: 'all', unitOnly };
  }
  if (scope === 'all' && catalogue === undefined) throw new CatalogueError(`--any-phase measures a catalogue of unseen defects; give it with --catalogue. ${usage}`);
  if (scope !== 'all' && catalogue !== undefined && phases.length !== 1) throw new CatalogueError(`--catalogue runs for exactly one phase; name it. ${usage}`);
  return { phases, defects, catalogue, scope, unitOnly };
}

/**
 * With --any-line every line of the phase runs, so one flaky line anywhere in the phase would read as
 * a catch (round 9 of the unseen defects counted three that way). The lines that failed run once more
 * with the defect still applied; only those failing again are a catch. A line that passes alone may
 * have failed on what the lines before it left (a second known-good release, another user's
 * sandbox): then every line of the first run runs again, in the same order, and a line failing in
 * both full runs is a catch too. A flaky line seldom fails twice; a defect does.
 */
async function failingAgain(copy: ScratchCopy, logDir: string, project: string, defectId: string, failed: readonly { line: string }[], allTitles: readonly string[], env: Record<string, string>, interruption: Interruption): Promise<{ lines: string[]; notRun: boolean; ms: number }> {
  const titles = failed.map((o) => o.line);
  console.log(`integrity: ${project}/${defectId}: ${titles.length} line(s) failed; running them again to tell a catch from a flaky line`);
  const again = await runGateLines({ repo: copy.repo, logDir, project, titles, label: `${project}-${defectId}-again`, env, interruption });
  const status = (t: string) => again.outcomes.get(t)?.status;
  const alone = titles.filter((t) => status(t) === 'failed');
  const passedAlone = titles.filter((t) => status(t) === 'passed');
  if (alone.length || !passedAlone.length || allTitles.length === titles.length) return { lines: alone, notRun: titles.some((t) => status(t) === 'not run'), ms: again.durationMs };
  console.log(`integrity: ${project}/${defectId}: they passed alone; running all ${allTitles.length} line(s) again, as the first time, in case they failed on what earlier lines left`);
  const inContext = await runGateLines({ repo: copy.repo, logDir, project, titles: allTitles, label: `${project}-${defectId}-again-in-context`, env, interruption });
  const contextStatus = (t: string) => inContext.outcomes.get(t)?.status;
  return { lines: passedAlone.filter((t) => contextStatus(t) === 'failed'), notRun: passedAlone.some((t) => contextStatus(t) === 'not run'), ms: again.durationMs + inContext.durationMs };
}

/** The files a defect edits, for `vitest related`. */
const editedFiles = (defect: SeededDefect): string[] => [...new Set(defect.edits.map((edit) => edit.file))];

/** Everything a run of lines needs besides the lines themselves. */
interface RunContext {
  copy: ScratchCopy;
  logDir: string;
  env: Record<string, string>;
  interruption: Interruption;
}

/** The lines on the unmodified copy: false (and why, printed) when one fails without any defect. */
async function baselinePasses(ctx: RunContext, phase: Phase, lines: readonly string[]): Promise<boolean> {
  console.log(`integrity: ${phase.id}: baseline, ${lines.length} line(s) on the unmodified copy`);
  const baseline = await runGateLines({ repo: ctx.copy.repo, logDir: ctx.logDir, project: phase.id, titles: lines, label: `${phase.id}-baseline`, env: ctx.env, interruption: ctx.interruption });
  const broken = [...baseline.outcomes].filter(([, outcome]) => outcome.status !== 'passed');
  if (broken.length) {
    console.error(`integrity: ${phase.id}: the baseline fails without any defect, so no catch would mean anything. Fix these first (log: ${baseline.logFile}):`);
    for (const [line, outcome] of broken) console.error(`  ${outcome.status}: ${line}${outcome.error ? ` (${outcome.error})` : ''}`);
    return false;
  }
  console.log(`integrity: ${phase.id}: baseline passed in ${(baseline.durationMs / 1000).toFixed(1)} s`);
  return true;
}

interface GateOutcome {
  result: 'caught' | 'FLAKY' | 'NOT RUN' | 'MISSED';
  failedLines: string[];
  firstError: string | undefined;
  ms: number;
}

/** One defect applied alone to the copy, against `titles` of one phase; with `confirm`, a failed line counts only if it fails again. */
async function gateOutcome(ctx: RunContext, phase: Phase, defect: SeededDefect, titles: readonly string[], confirm: boolean): Promise<GateOutcome> {
  const revert = await ctx.copy.apply(defect.edits);
  try {
    const run = await runGateLines({ repo: ctx.copy.repo, logDir: ctx.logDir, project: phase.id, titles, label: `${phase.id}-${defect.id}`, env: ctx.env, interruption: ctx.interruption });
    const outcomes = titles.map((line) => ({ line, ...(run.outcomes.get(line) ?? { status: 'not run' as const, error: undefined }) }));
    const failed = outcomes.filter((o) => o.status === 'failed');
    const confirmed = confirm && failed.length ? await failingAgain(ctx.copy, ctx.logDir, phase.id, defect.id, failed, titles, ctx.env, ctx.interruption) : { lines: failed.map((o) => o.line), notRun: false, ms: 0 };
    // A second run that did not run its lines (no report) says nothing either way: NOT RUN, not FLAKY.
    const result = confirmed.lines.length ? 'caught' : failed.length ? (confirmed.notRun ? 'NOT RUN' : 'FLAKY') : outcomes.some((o) => o.status === 'not run') ? 'NOT RUN' : 'MISSED';
    const shown = confirmed.lines.length ? confirmed.lines : failed.map((o) => o.line);
    return { result, failedLines: shown, firstError: failed.find((o) => o.line === shown[0])?.error, ms: run.durationMs + confirmed.ms };
  } finally {
    await revert();
  }
}

/**
 * A unit catch is the related tests failing with the defect and passing without it, and the test
 * files that failed failing again with it: under load a test can fail once for reasons of its own
 * (a race with a directory another test removes), and one such failure must not read as a catch.
 * When the clean copy fails too, only the files that passed there can claim the catch.
 */
async function unitCatch(ctx: RunContext, defect: SeededDefect, label: string): Promise<{ result: 'unit' | 'FLAKY' | undefined; status: UnitTestsRun['status']; failedFiles: string[]; firstError: string | undefined; ms: number }> {
  const run = (name: string, files: UnitTestsOptions['files']): Promise<UnitTestsRun> => runUnitTests({ repo: ctx.copy.repo, logDir: ctx.logDir, files, label: name, env: ctx.env, interruption: ctx.interruption });
  const withDefect = async (name: string, files: UnitTestsOptions['files']): Promise<UnitTestsRun> => {
    const revert = await ctx.copy.apply(defect.edits);
    try {
      return await run(name, files);
    } finally {
      await revert();
    }
  };
  const unit = await withDefect(label, { related: editedFiles(defect) });
  if (unit.status !== 'failed') return { result: undefined, status: unit.status, failedFiles: [], firstError: undefined, ms: unit.durationMs };
  const clean = await run(`${label}-baseline`, { related: editedFiles(defect) });
  const candidates = filesFailingOnlyWithDefect(unit, clean);
  if (!candidates || (clean.status !== 'passed' && !candidates.length)) return { result: undefined, status: unit.status, failedFiles: [], firstError: undefined, ms: unit.durationMs + clean.durationMs };
  if (clean.status !== 'passed') console.log(`integrity: ${label}: the clean copy failed too, in ${clean.failedFiles.join(', ')}; only ${candidates.join(', ')} can claim the catch`);
  const again = candidates.length ? await withDefect(`${label}-again`, { tests: candidates }) : unit;
  const failedTwice = candidates.filter((file) => again.failedFiles.includes(file));
  const confirmed = again.status === 'failed' && (failedTwice.length > 0 || !candidates.length);
  const ms = unit.durationMs + clean.durationMs + (again === unit ? 0 : again.durationMs);
  return { result: confirmed ? 'unit' : 'FLAKY', status: unit.status, failedFiles: confirmed && failedTwice.length ? failedTwice : candidates, firstError: again === unit ? unit.firstError : (again.firstError ?? unit.firstError), ms };
}

/** A unit catch replaces whatever the gate lines said; a flaky unit failure only a MISSED, which it can no longer claim. */
function unitResult(row: DefectRow, unit: Awaited<ReturnType<typeof unitCatch>>): Partial<DefectRow> {
  if (unit.result === 'unit' || (unit.result === 'FLAKY' && row.result === 'MISSED')) return { result: unit.result, failedLines: unit.failedFiles, firstError: unit.firstError };
  return {};
}

async function runCatalogue(ctx: RunContext, catalogue: PhaseCatalogue, only: readonly string[], scope: LineScope): Promise<DefectRow[] | 'baseline failed'> {
  const { phase } = catalogue;
  const defects = catalogue.defects.filter((d) => !only.length || only.includes(d.id));
  if (!(await baselinePasses(ctx, phase, [...new Set(defects.flatMap((d) => linesToRun(d, phase, scope)))]))) return 'baseline failed';
  const rows: DefectRow[] = [];
  for (const defect of defects) {
    const gate = await gateOutcome(ctx, phase, defect, linesToRun(defect, phase, scope), scope === 'phase');
    let row: DefectRow = { defect: `${phase.id}/${defect.id}`, caughtBy: defect.caughtBy, result: gate.result, failedLines: gate.failedLines, firstError: gate.firstError, seconds: gate.ms / 1000 };
    // The unseen measure is "the suites together": code no gate line runs (the gate runner's verify, say) has only its unit tests.
    const unit = scope === 'phase' && gate.result !== 'caught' ? await unitCatch(ctx, defect, `${phase.id}-${defect.id}-unit`) : undefined;
    if (unit) row = { ...row, ...unitResult(row, unit), seconds: row.seconds + unit.ms / 1000 };
    rows.push(row);
    console.log(`integrity: ${row.defect}: ${row.result}${unit ? ` (unit tests importing the edited files: ${unit.status})` : ''} (${row.seconds.toFixed(1)} s)`);
  }
  return rows;
}

/**
 * --any-phase: each phase in `order` runs every line for the defects no earlier phase caught, after
 * its own baseline; what no phase caught then meets its unit tests. A FLAKY or NOT RUN outcome is
 * kept unless a later phase catches the defect, so it is never read as MISSED.
 */
async function runAcrossPhases(ctx: RunContext, defects: readonly SeededDefect[], order: readonly Phase[]): Promise<DefectRow[] | 'baseline failed'> {
  const rows = new Map<string, DefectRow>(defects.map((d) => [d.id, { defect: d.id, caughtBy: d.caughtBy, result: 'MISSED', failedLines: [], firstError: undefined, seconds: 0 }]));
  const rowOf = (defect: SeededDefect): DefectRow => rows.get(defect.id) ?? { defect: defect.id, caughtBy: defect.caughtBy, result: 'MISSED', failedLines: [], firstError: undefined, seconds: 0 };
  for (const phase of order) {
    const open = defects.filter((d) => rowOf(d).result !== 'caught');
    if (!open.length) break;
    const lines = phase.checklist.map((line) => line.text);
    if (!(await baselinePasses(ctx, phase, lines))) return 'baseline failed';
    for (const defect of open) {
      const gate = await gateOutcome(ctx, phase, defect, lines, true);
      const row = rowOf(defect);
      const seconds = row.seconds + gate.ms / 1000;
      const moreToSay = gate.result === 'caught' || (row.result === 'MISSED' && gate.result !== 'MISSED');
      rows.set(defect.id, moreToSay ? { ...row, result: gate.result, failedLines: gate.failedLines.map((line) => `${phase.id}: ${line}`), firstError: gate.firstError, seconds } : { ...row, seconds });
      console.log(`integrity: ${defect.id}: ${gate.result} by the ${phase.id} lines (${(gate.ms / 1000).toFixed(1)} s)`);
    }
  }
  for (const defect of defects.filter((d) => rowOf(d).result !== 'caught')) {
    const unit = await unitCatch(ctx, defect, `${defect.id}-unit`);
    const row = rowOf(defect);
    rows.set(defect.id, { ...row, ...unitResult(row, unit), seconds: row.seconds + unit.ms / 1000 });
    console.log(`integrity: ${defect.id}: ${rowOf(defect).result} (unit tests importing the edited files: ${unit.status})`);
  }
  return defects.map(rowOf);
}

/** --unit-only: each defect against the unit tests that import the files it edits, and nothing else. */
async function runUnitTestsOnly(ctx: RunContext, defects: readonly SeededDefect[]): Promise<DefectRow[]> {
  const rows: DefectRow[] = [];
  for (const defect of defects) {
    const unit = await unitCatch(ctx, defect, `${defect.id}-unit`);
    const row: DefectRow = { defect: defect.id, caughtBy: defect.caughtBy, result: 'MISSED', failedLines: [], firstError: undefined, seconds: unit.ms / 1000 };
    rows.push({ ...row, ...unitResult(row, unit) });
    console.log(`integrity: ${defect.id}: ${rows.at(-1)?.result ?? 'MISSED'} (unit tests importing the edited files: ${unit.status})`);
  }
  return rows;
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  let catalogues: PhaseCatalogue[] = [];
  let across: { defects: readonly SeededDefect[]; order: readonly Phase[] } | undefined;
  if (args.scope === 'all' && args.catalogue !== undefined) {
    const file = path.resolve(args.catalogue);
    const all = await loadUnseenDefects(file);
    const problems = acrossPhasesProblems(file, all);
    if (problems.length) throw new CatalogueError(`the catalogue does not fit this checkout:\n  ${problems.join('\n  ')}`);
    across = { defects: all.filter((d) => !args.defects.length || args.defects.includes(d.id)), order: args.phases.length ? args.phases.map(phaseById) : phases };
  } else {
    catalogues = args.catalogue === undefined ? await loadCatalogues(args.phases) : [await loadCatalogueFile(phaseById(args.phases[0] ?? ''), args.catalogue)];
    if (!catalogues.length) throw new CatalogueError('no phase has seeded defects (suites/<phase>/defects.ts)');
    // A catalogue of unseen defects need not cover every line; a phase's own must.
    const problems = catalogues.flatMap((c) => catalogueProblems(c, repoRoot, { everyLine: args.catalogue === undefined }));
    if (problems.length) throw new CatalogueError(`the catalogue does not fit this checkout:\n  ${problems.join('\n  ')}`);
  }
  const known = across ? across.defects : catalogues.flatMap((c) => c.defects);
  const unknown = args.defects.filter((id) => !known.some((d) => d.id === id));
  if (unknown.length) throw new CatalogueError(`no seeded defect named ${unknown.join(', ')}`);

  const started = performance.now();
  // Playwright's output per run stays readable after the scratch copy is gone.
  const logDir = path.join(repoRoot, 'reports', 'integrity', new Date().toISOString().replace(/[:.]/g, '-'));
  await mkdir(logDir, { recursive: true });
  // Installed before the scratch copy exists, so a signal at any point unwinds through the cleanup below.
  const interruption = new Interruption({ graceMs: 120_000 });
  const interrupted = (signal: NodeJS.Signals): void => {
    console.error(`integrity: ${signal}: stopping the test run (Playwright, or vitest with --unit-only), then removing the scratch copy and the run's podman store`);
    void interruption.interrupt(signal);
  };
  process.on('SIGINT', interrupted);
  process.on('SIGTERM', interrupted);
  const copy = await ScratchCopy.of(repoRoot);
  // The run's own podman store: a defect in the workload must never land in the image other runs use.
  const store = await createRunStore().catch(async (error: unknown) => {
    await copy.remove();
    throw error;
  });
  // Always the local target, with evidence and reports inside the scratch copy.
  const inherited = Object.entries(process.env).filter((entry): entry is [string, string] => entry[1] !== undefined && !entry[0].startsWith('GATE_'));
  // The snapshot of nixpkgs' lib is found beside the checkout (../shared), which the scratch copy in the temp dir has not beside it.
  const nixpkgsLib = nixpkgsLibExpression();
  const env: Record<string, string> = { ...Object.fromEntries(inherited), ...store.env, ...(existsSync(nixpkgsLib.source) ? { NIXPKGS_LIB: nixpkgsLib.source } : {}) };
  const cleanUp = async (): Promise<void> => {
    leftBehind = await removeLeftovers(
      [
        { what: 'podman store', dir: store.dir, remove: () => store.remove() },
        { what: 'scratch copy', dir: copy.root, remove: () => copy.remove() },
      ],
      (line) => console.error(line),
    );
  };
  try {
    interruption.check();
    console.log(`integrity: scratch copy ${copy.repo}, podman store ${store.dir}, Playwright output in ${path.relative(repoRoot, logDir)}`);
    const ctx: RunContext = { copy, logDir, env, interruption };
    const rows: DefectRow[] = [];
    if (across && args.unitOnly) {
      rows.push(...(await runUnitTestsOnly(ctx, across.defects)));
    } else if (across) {
      const result = await runAcrossPhases(ctx, across.defects, across.order);
      if (result === 'baseline failed') return 2;
      rows.push(...result);
    }
    for (const catalogue of catalogues) {
      const result = await runCatalogue(ctx, catalogue, args.defects, args.scope);
      if (result === 'baseline failed') return 2;
      rows.push(...result);
    }
    // A signal after the last Playwright run still means the table is not the run that was asked for.
    interruption.check();
    console.log('');
    console.log(renderKillTable(rows, args.unitOnly ? 'unit tests' : args.scope));
    console.log(`(npm run integrity -- ${[...args.phases, ...args.defects.flatMap((d) => ['--defect', d]), ...(args.catalogue ? ['--catalogue', args.catalogue] : []), ...(args.unitOnly ? ['--unit-only'] : args.scope === 'phase' ? ['--any-line'] : args.scope === 'all' ? ['--any-phase'] : [])].join(' ') || '(all phases)'}: ${((performance.now() - started) / 60_000).toFixed(1)} min)`);
    const rate = killRate(rows);
    return (args.unitOnly ? rate.withUnitTests : rate.caught) === rows.length ? 0 : 1;
  } finally {
    // Reached only once no Playwright child runs: runGateLines returns after its child has exited.
    await cleanUp();
  }
}

/** What the run's clean-up could not remove (named then with how to remove it by hand). */
let leftBehind: string[] = [];

try {
  process.exitCode = await main();
} catch (error) {
  if (error instanceof InterruptedError) {
    console.error(`integrity: ${error.message}: the test run stopped, ${leftBehind.length ? `left behind: ${leftBehind.join(', ')}` : "the scratch copy and the run's podman store removed"}`);
    process.exit(interruptedExitCode(error.signal));
  }
  if (!(error instanceof CatalogueError || error instanceof UnknownPhaseError)) throw error;
  console.error(`integrity: ${error.message}`);
  process.exitCode = 2;
}
