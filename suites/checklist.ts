/**
 * Reads the bootstrap execution checklists (suites/bootstrap-execution-checklists.md, a verbatim
 * copy of the seed document) so that test titles, Allure labels, the quality gate and summary.md
 * all use the checklist's own words.
 */
export const gateAreas = ['Gate', 'Tasks', 'Evidence', 'Rollback'] as const;
export type GateArea = (typeof gateAreas)[number];

/** The global definition of done's lines are proved inside the phases where they fit. */
export const definitionOfDoneArea = 'Definition of Done';
export type ChecklistArea = GateArea | typeof definitionOfDoneArea;

export interface ChecklistSection {
  area: GateArea;
  lines: readonly string[];
}

export interface PhaseChecklist {
  /** The phase's number in the document ("## Phase 1 Issue: ..."). */
  number: number;
  name: string;
  outcome: string;
  sections: readonly ChecklistSection[];
}

export interface BootstrapChecklists {
  definitionOfDone: readonly string[];
  phases: readonly PhaseChecklist[];
  executionRules: readonly string[];
}

export class ChecklistFormatError extends Error {
  constructor(lineNumber: number, line: string, expected: string) {
    super(`bootstrap checklist line ${lineNumber} ("${line}"): expected ${expected}. Keep suites/bootstrap-execution-checklists.md a verbatim copy of the seed document.`);
    this.name = 'ChecklistFormatError';
  }
}

const phaseHeading = /^## Phase (\d+) Issue: (.+)$/;
const checklistItem = /^- \[[ x]\] (.+)$/;
const numberedRule = /^\d+\. (.+)$/;

type Block = { kind: 'none' } | { kind: 'definitionOfDone' } | { kind: 'rules' } | { kind: 'phase'; section: 'Outcome' | GateArea | 'other' };

export function parseChecklists(markdown: string): BootstrapChecklists {
  const definitionOfDone: string[] = [];
  const executionRules: string[] = [];
  const phases: { number: number; name: string; outcome: string[]; sections: Map<GateArea, string[]> }[] = [];
  let block: Block = { kind: 'none' };

  markdown.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trimEnd();
    const phase = phaseHeading.exec(line);
    if (phase) {
      phases.push({ number: Number(phase[1]), name: String(phase[2]), outcome: [], sections: new Map() });
      block = { kind: 'phase', section: 'other' };
      return;
    }
    if (line.startsWith('## ')) {
      block = line.startsWith('## Global Definition of Done') ? { kind: 'definitionOfDone' } : line === '## Execution Rules' ? { kind: 'rules' } : { kind: 'none' };
      return;
    }
    if (line.startsWith('### ') && block.kind === 'phase') {
      const heading = line.slice(4);
      block = { kind: 'phase', section: heading === 'Outcome' || (gateAreas as readonly string[]).includes(heading) ? (heading as 'Outcome' | GateArea) : 'other' };
      return;
    }
    if (line === '') return;
    const item = checklistItem.exec(line)?.[1];
    if (block.kind === 'definitionOfDone') {
      if (!item) throw new ChecklistFormatError(index + 1, line, 'a "- [ ] ..." item under the global definition of done');
      definitionOfDone.push(item);
    } else if (block.kind === 'rules') {
      const rule = numberedRule.exec(line)?.[1];
      if (rule) executionRules.push(rule);
    } else if (block.kind === 'phase') {
      const current = phases.at(-1);
      if (!current) return;
      if (block.section === 'Outcome') current.outcome.push(line);
      else if (block.section !== 'other') {
        if (!item) throw new ChecklistFormatError(index + 1, line, `a "- [ ] ..." item under ### ${block.section}`);
        const lines = current.sections.get(block.section) ?? [];
        lines.push(item);
        current.sections.set(block.section, lines);
      }
    }
  });

  return {
    definitionOfDone,
    executionRules,
    phases: phases.map((p) => ({
      number: p.number,
      name: p.name,
      outcome: p.outcome.join(' '),
      sections: gateAreas.filter((area) => p.sections.has(area)).map((area) => ({ area, lines: p.sections.get(area) ?? [] })),
    })),
  };
}
