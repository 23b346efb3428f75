import { createHash } from 'node:crypto';

/**
 * The work a run does: a Markdown report on its objective, built in named steps. Everything in it
 * is a pure function of the objective, so the same objective always yields the same document.
 */
export interface ObjectiveFacts {
  objective: string;
  words: string[];
  slug: string;
  sha256: string;
}

export interface ReportStep {
  name: string;
  section(facts: ObjectiveFacts): string;
}

export function objectiveFacts(objective: string): ObjectiveFacts {
  const normalized = objective.trim().replace(/\s+/g, ' ');
  const words = normalized.toLowerCase().match(/[\p{L}\p{N}]+(?:['-][\p{L}\p{N}]+)*/gu) ?? [];
  const slug = words.join('-').slice(0, 60).replace(/-+$/, '') || 'objective';
  return { objective: normalized, words, slug, sha256: createHash('sha256').update(normalized).digest('hex') };
}

function keyTerms(words: readonly string[], count: number): Array<[string, number]> {
  const frequency = new Map<string, number>();
  for (const word of words) if (word.length > 3) frequency.set(word, (frequency.get(word) ?? 0) + 1);
  return [...frequency].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, count);
}

export const reportSteps: readonly ReportStep[] = [
  {
    name: 'read objective',
    section: (f) => `## Objective\n\n> ${f.objective}\n\n- words: ${f.words.length}\n- characters: ${f.objective.length}\n- slug: \`${f.slug}\``,
  },
  {
    name: 'extract key terms',
    section: (f) => {
      const terms = keyTerms(f.words, 5);
      const list = terms.length ? terms.map(([term, n]) => `- ${term} (${n})`).join('\n') : '- (no term longer than three letters)';
      return `## Key terms\n\n${list}`;
    },
  },
  {
    name: 'outline plan',
    section: (f) => {
      const distinct = new Set(f.words).size;
      return `## Plan\n\n1. Clarify the objective (${distinct} distinct words).\n2. Address each key term in turn.\n3. Check the result against the objective's checksum.`;
    },
  },
  {
    name: 'verify checksum',
    section: (f) => `## Verification\n\n- sha256 of the objective: \`${f.sha256}\``,
  },
];

export function reportTitle(facts: ObjectiveFacts): string {
  return `# Report: ${facts.objective.length > 80 ? `${facts.objective.slice(0, 77)}...` : facts.objective}`;
}

/** The whole document, as the steps build it. */
export function renderReport(facts: ObjectiveFacts, sections: readonly string[]): string {
  return `${[reportTitle(facts), ...sections].join('\n\n')}\n`;
}
