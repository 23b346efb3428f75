import { describe, expect, test } from 'vitest';
import { objectiveFacts, renderReport, reportSteps } from './report.ts';

const reportFor = (objective: string): string => {
  const facts = objectiveFacts(objective);
  return renderReport(facts, reportSteps.map((step) => step.section(facts)));
};

describe('the report a run writes', () => {
  test('the same objective always yields the same document', () => {
    expect(reportFor('Summarise the  sandbox contract')).toBe(reportFor('Summarise the sandbox contract'));
  });

  test('the document states the objective, its word count, slug, key terms and checksum', () => {
    const document = reportFor('Plan the sandbox rollout, then plan the rollback');
    expect(document).toContain('# Report: Plan the sandbox rollout, then plan the rollback');
    expect(document).toContain('- words: 8');
    expect(document, '"plan" and "the" each appear twice').toContain('Clarify the objective (6 distinct words).');
    expect(document).toContain('- slug: `plan-the-sandbox-rollout-then-plan-the-rollback`');
    expect(document).toMatch(/## Key terms\n\n- plan \(2\)\n- rollback \(1\)\n- rollout \(1\)\n- sandbox \(1\)\n- then \(1\)/);
    expect(document).toMatch(/sha256 of the objective: `[0-9a-f]{64}`/);
  });

  test('different objectives get different checksums', () => {
    expect(objectiveFacts('one task').sha256).not.toBe(objectiveFacts('another task').sha256);
  });

  test('the slug is the lower-case words joined by "-", at most 60 characters, never ending in "-"; "objective" when there are no words', () => {
    // Word 12 ends at character 59, so a cut at 60 lands on the hyphen after it.
    const slug = objectiveFacts(`${'Abcd '.repeat(11)}Wxyz More words here`).slug;
    expect(slug).toBe(`${'abcd-'.repeat(11)}wxyz`);
    expect(objectiveFacts('x'.repeat(100)).slug).toBe('x'.repeat(60));
    expect(objectiveFacts('?!  ...').slug).toBe('objective');
  });

  test('at most five key terms, the most frequent first, ties in alphabetical order, only words longer than three letters', () => {
    const document = reportFor('zeta zeta alpha beta gamma delta epsilon eta rho');
    expect(document).toMatch(/## Key terms\n\n- zeta \(2\)\n- alpha \(1\)\n- beta \(1\)\n- delta \(1\)\n- epsilon \(1\)\n\n/);
    expect(reportFor('a an the one')).toContain('- (no term longer than three letters)');
  });

  test('a title longer than 80 characters is cut to 80, ending in "..."', () => {
    const title = reportFor('w'.repeat(81)).split('\n')[0] ?? '';
    expect(title).toBe(`# Report: ${'w'.repeat(77)}...`);
    expect(reportFor('w'.repeat(80)).split('\n')[0]).toBe(`# Report: ${'w'.repeat(80)}`);
  });
});
