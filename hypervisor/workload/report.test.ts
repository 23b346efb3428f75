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
    expect(document).toContain('- slug: `plan-the-sandbox-rollout-then-plan-the-rollback`');
    expect(document).toMatch(/## Key terms\n\n- plan \(2\)\n- rollback \(1\)\n- rollout \(1\)\n- sandbox \(1\)\n- then \(1\)/);
    expect(document).toMatch(/sha256 of the objective: `[0-9a-f]{64}`/);
  });

  test('different objectives get different checksums', () => {
    expect(objectiveFacts('one task').sha256).not.toBe(objectiveFacts('another task').sha256);
  });
});
