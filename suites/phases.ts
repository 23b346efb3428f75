import { readFileSync } from 'node:fs';
import { parseChecklists, definitionOfDoneArea, type ChecklistArea, type PhaseChecklist } from './checklist.ts';

/** The bootstrap phases, in execution order (suites/bootstrap-execution-checklists.md, copied from the seed). */
export const phaseIds = ['phase1', 'phase2', 'phase3', 'phase4', 'phase5'] as const;
export type PhaseId = (typeof phaseIds)[number];

/** One checklist line; its text is the title of the test that proves it, word for word. */
export interface ChecklistLine {
  area: ChecklistArea;
  text: string;
}

export interface Phase {
  id: PhaseId;
  folder: string;
  title: string;
  outcome: string;
  /** The phase's lines (Gate, Tasks, Evidence, Rollback), then the global definition of done's lines it proves. */
  checklist: readonly ChecklistLine[];
  /** The phase whose passing verdict (for the same target) this phase's gate run requires. */
  predecessor: PhaseId | undefined;
}

export const checklistsDocument = new URL('./bootstrap-execution-checklists.md', import.meta.url);
export const bootstrapChecklists = parseChecklists(readFileSync(checklistsDocument, 'utf8'));

const layout: readonly { id: PhaseId; folder: string; provesDefinitionOfDone: boolean }[] = [
  { id: 'phase1', folder: 'phase1-local-podman-smoke', provesDefinitionOfDone: true },
  { id: 'phase2', folder: 'phase2-ci-cache', provesDefinitionOfDone: false },
  { id: 'phase3', folder: 'phase3-nixos-module', provesDefinitionOfDone: false },
  { id: 'phase4', folder: 'phase4-ec2-provisioning', provesDefinitionOfDone: false },
  // Phase 5 proves them again against the deployed host.
  { id: 'phase5', folder: 'phase5-production-validation', provesDefinitionOfDone: true },
];

function documentPhase(number: number): PhaseChecklist {
  const found = bootstrapChecklists.phases.find((p) => p.number === number);
  if (!found) throw new Error(`suites/bootstrap-execution-checklists.md has no "## Phase ${number} Issue: ..." section; restore it from the seed document.`);
  return found;
}

export const phases: readonly Phase[] = layout.map((entry, index) => {
  const doc = documentPhase(index + 1);
  const own = doc.sections.flatMap((section) => section.lines.map((text): ChecklistLine => ({ area: section.area, text })));
  const definitionOfDone = entry.provesDefinitionOfDone ? bootstrapChecklists.definitionOfDone.map((text): ChecklistLine => ({ area: definitionOfDoneArea, text })) : [];
  return {
    id: entry.id,
    folder: entry.folder,
    title: `Phase ${doc.number}: ${doc.name}`,
    outcome: doc.outcome,
    checklist: [...own, ...definitionOfDone],
    predecessor: index === 0 ? undefined : layout[index - 1]?.id,
  };
});

export class UnknownPhaseError extends Error {
  constructor(input: string) {
    super(`unknown phase "${input}": use one of ${phaseIds.join(', ')} (for example: npm run gate -- phase1).`);
    this.name = 'UnknownPhaseError';
  }
}

export function phaseById(id: string): Phase {
  const phase = phases.find((p) => p.id === id);
  if (!phase) throw new UnknownPhaseError(id);
  return phase;
}

/** The phase whose suite lives in a Playwright project of the same id, or undefined for other projects. */
export function phaseOfProject(projectName: string): Phase | undefined {
  return phases.find((p) => p.id === projectName);
}
