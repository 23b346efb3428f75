import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { repoRoot } from '../hypervisor/paths.ts';
import { phases, type Phase } from '../suites/phases.ts';
import type { LineWithoutDefect, SeededDefect } from './seeded-defect.ts';

export interface PhaseCatalogue {
  phase: Phase;
  file: string;
  defects: readonly SeededDefect[];
  /** Lines the catalogue says it does not cover yet, each with its reason (seeded-defect.ts). */
  linesWithoutDefects?: readonly LineWithoutDefect[];
}

export class CatalogueError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CatalogueError';
  }
}

export const catalogueFile = (phase: Phase, root = repoRoot): string => path.join(root, 'suites', phase.folder, 'defects.ts');

const occurrences = (text: string, find: string): number => (find ? text.split(find).length - 1 : 0);

/** What is wrong with a list of defects against the tree at `root`: duplicate ids, lines not in `lines`, edits whose text is not found exactly once. */
function defectProblems(defects: readonly SeededDefect[], file: string, lines: ReadonlySet<string>, whose: string, root: string): string[] {
  const problems: string[] = [];
  const ids = new Set<string>();
  for (const defect of defects) {
    const where = `${path.relative(root, file)}: defect "${defect.id}"`;
    if (ids.has(defect.id)) problems.push(`${where}: the id is used twice`);
    ids.add(defect.id);
    if (!defect.caughtBy.length) problems.push(`${where}: names no line meant to catch it`);
    for (const line of defect.caughtBy) if (!lines.has(line)) problems.push(`${where}: "${line}" is not ${whose} checklist line (use the test title, word for word)`);
    if (!defect.edits.length) problems.push(`${where}: has no edit`);
    for (const edit of defect.edits) {
      const edited = path.join(root, edit.file);
      if (!existsSync(edited)) {
        problems.push(`${where}: ${edit.file} does not exist (moved? update the edit)`);
        continue;
      }
      const count = occurrences(readFileSync(edited, 'utf8'), edit.find);
      if (count !== 1) problems.push(`${where}: the text to replace occurs ${count} times in ${edit.file}, not once (the code moved: update the edit)`);
      if (edit.find === edit.replace) problems.push(`${where}: an edit of ${edit.file} changes nothing`);
    }
  }
  return problems;
}

/**
 * What is wrong with a phase's catalogue against the tree at `root`: lines it does not name, lines
 * with no defect, duplicate ids, edits whose text is not found exactly once. Empty when it is usable.
 */
export function catalogueProblems(catalogue: PhaseCatalogue, root = repoRoot, options: { everyLine: boolean } = { everyLine: true }): string[] {
  const { phase, defects } = catalogue;
  const lines = new Set(phase.checklist.map((line) => line.text));
  const problems = defectProblems(defects, catalogue.file, lines, `a ${phase.id}`, root);
  const named = new Set(defects.flatMap((d) => d.caughtBy));
  const file = path.relative(root, catalogue.file);
  const excused = new Map((catalogue.linesWithoutDefects ?? []).map((entry) => [entry.line, entry.why]));
  for (const [line, why] of excused) {
    if (!lines.has(line)) problems.push(`${file}: linesWithoutDefects names "${line}", which is not a ${phase.id} checklist line`);
    else if (named.has(line)) problems.push(`${file}: linesWithoutDefects excuses "${line}", but a defect names it now: remove the entry`);
    else if (!why.trim()) problems.push(`${file}: linesWithoutDefects excuses "${line}" without saying why`);
  }
  if (options.everyLine) for (const line of phase.checklist) if (!named.has(line.text) && !excused.has(line.text)) problems.push(`${file}: no seeded defect for the ${phase.id} line "${line.text}"`);
  return problems;
}

/**
 * An unseen catalogue measured across phases (--any-phase): its writer guesses a line of whichever
 * phase seems meant, so a line of any phase is a valid guess.
 */
export function acrossPhasesProblems(file: string, defects: readonly SeededDefect[], root = repoRoot): string[] {
  return defectProblems(defects, file, new Set(phases.flatMap((phase) => phase.checklist.map((line) => line.text))), 'any phase\'s', root);
}

/**
 * Which lines a defect's run covers: the lines it names ('meant', how a phase's own catalogue proves
 * each line can fail), or every line of its phase ('phase': how defects the suites have never seen
 * are measured, since their writer can only guess the line), or every line of each phase in turn
 * until one catches it ('all', --any-phase: the suites together).
 */
export type LineScope = 'meant' | 'phase' | 'all';

export function linesToRun(defect: SeededDefect, phase: Phase, scope: LineScope): readonly string[] {
  return scope === 'meant' ? defect.caughtBy : phase.checklist.map((line) => line.text);
}

/** The defects of a catalogue kept elsewhere (defects the suites have never seen). */
export async function loadUnseenDefects(file: string): Promise<readonly SeededDefect[]> {
  if (!existsSync(file)) throw new CatalogueError(`${file} does not exist: give a .ts file exporting \`defects: readonly SeededDefect[]\``);
  const module = (await import(pathToFileURL(path.resolve(file)).href)) as { defects?: readonly SeededDefect[] };
  if (!Array.isArray(module.defects)) throw new CatalogueError(`${file} must export \`defects: readonly SeededDefect[]\``);
  return module.defects;
}

/** A catalogue kept elsewhere, run for one phase instead of its own. */
export async function loadCatalogueFile(phase: Phase, file: string): Promise<PhaseCatalogue> {
  return { phase, file: path.resolve(file), defects: await loadUnseenDefects(file) };
}

/** Every phase that has a catalogue (suites/<folder>/defects.ts), in phase order; `only` narrows it. */
export async function loadCatalogues(only: readonly string[] = [], root = repoRoot): Promise<PhaseCatalogue[]> {
  const unknown = only.filter((id) => !phases.some((phase) => phase.id === id));
  if (unknown.length) throw new CatalogueError(`unknown phase(s) ${unknown.join(', ')}: use ${phases.map((p) => p.id).join(', ')}`);
  const catalogues: PhaseCatalogue[] = [];
  for (const phase of phases) {
    if (only.length && !only.includes(phase.id)) continue;
    const file = catalogueFile(phase, root);
    if (!existsSync(file)) {
      if (only.includes(phase.id)) throw new CatalogueError(`${phase.id} has no seeded defects: add ${path.relative(root, file)} exporting \`defects\``);
      continue;
    }
    const module = (await import(pathToFileURL(file).href)) as { defects?: readonly SeededDefect[]; linesWithoutDefects?: readonly LineWithoutDefect[] };
    if (!Array.isArray(module.defects)) throw new CatalogueError(`${path.relative(root, file)} must export \`defects: readonly SeededDefect[]\``);
    catalogues.push({ phase, file, defects: module.defects, ...(module.linesWithoutDefects ? { linesWithoutDefects: module.linesWithoutDefects } : {}) });
  }
  return catalogues;
}
