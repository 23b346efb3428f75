/**
 * A seeded defect: a small, realistic mistake a person could make in this repo, written as exact
 * edits to a scratch copy, and the gate lines that exist to catch it. `npm run integrity` applies
 * each one alone and runs only those lines; a defect none of them catches is a finding (MISSED).
 *
 * A phase's catalogue lives beside its suite, in suites/<phase folder>/defects.ts, exporting
 * `defects: readonly SeededDefect[]`; the runner finds it there.
 */
export interface SourceEdit {
  /** Path from the repo root. */
  file: string;
  /** Text that occurs exactly once in the file (the catalogue test keeps it so as the code moves). */
  find: string;
  replace: string;
}

export interface SeededDefect {
  /** Short and unique within the phase: names the defect in the table. */
  id: string;
  /** What the mistake is and why someone might make it. */
  what: string;
  /** Checklist lines (test titles, word for word) meant to catch it; one of them failing is a catch. */
  caughtBy: readonly string[];
  edits: readonly SourceEdit[];
}

/**
 * A checklist line a phase's catalogue does not cover yet, said out loud: a catalogue may export
 * `linesWithoutDefects` naming each such line and why (for example: its test does not exist yet).
 * The catalogue check then accepts the gap for that line only, and refuses the entry once a defect
 * names the line, so the exception cannot outlive its reason.
 */
export interface LineWithoutDefect {
  line: string;
  why: string;
}
