import { describe, expect, it } from 'vitest';
import { phaseById, type Phase } from '../suites/phases.ts';
import { everyLinePassedRule, phaseQualityGate } from './quality-gate-rules.ts';

// The Allure CLI loads these rules through allurerc.mjs (quality-gate.test.ts runs them that way);
// here they are called directly, so a change to this file is checked by the tests that import it.
type AllureTestResult = Parameters<typeof everyLinePassedRule.validate>[0]['trs'][number];
type Status = AllureTestResult['status'];

const phase1 = phaseById('phase1');
const lines = phase1.checklist.map((l) => l.text);

function testResult(phase: Phase, name: string, status: Status): AllureTestResult {
  return {
    id: `${phase.id}:${name}:${status}`,
    name,
    status,
    flaky: false,
    muted: false,
    known: false,
    isRetry: false,
    labels: [
      { name: 'epic', value: phase.title },
      { name: 'story', value: name },
    ],
    parameters: [],
    links: [],
    steps: [],
    sourceMetadata: { readerId: 'allure2', metadata: {} },
  };
}

/** What Allure hands one rule to carry across result batches; the gate evaluates one batch here. */
function ruleState(): Parameters<typeof everyLinePassedRule.validate>[0]['state'] {
  let kept: unknown;
  return { getResult: () => kept, setResult: (value) => (kept = value) };
}

/** The lines the phase's everyLinePassed rule reports without a passing test, over the results its filter keeps. */
async function linesWithoutPassingTest(results: readonly AllureTestResult[]): Promise<string[]> {
  const [rules] = phaseQualityGate(phase1).rules;
  const trs = results.filter((tr) => rules?.filter(tr));
  const { success, actual } = await everyLinePassedRule.validate({ expected: rules?.everyLinePassed ?? [], trs, state: ruleState() });
  expect(success).toBe(actual.length === 0);
  return actual;
}

const allBut = (line: string, status: Status): AllureTestResult[] => lines.map((l) => testResult(phase1, l, l === line ? status : 'passed'));

describe('the everyLinePassed rule of a phase\'s quality gate (quality-gate-rules.ts)', () => {
  it('holds when every checklist line has a passing test', async () => {
    expect(await linesWithoutPassingTest(lines.map((l) => testResult(phase1, l, 'passed')))).toEqual([]);
  });

  it('names a line whose only test was skipped, broken, unknown or failed: none of those proves it', async () => {
    const line = lines[2] ?? '';
    for (const status of ['skipped', 'broken', 'unknown', 'failed'] as const) {
      expect(await linesWithoutPassingTest(allBut(line, status)), status).toEqual([line]);
    }
  });

  it('names a line no test reported on, and one proven only by another phase\'s test of the same title', async () => {
    const line = lines[0] ?? '';
    expect(await linesWithoutPassingTest(lines.filter((l) => l !== line).map((l) => testResult(phase1, l, 'passed')))).toEqual([line]);
    const fromPhase5 = [...allBut(line, 'failed').filter((tr) => tr.name !== line), testResult(phaseById('phase5'), line, 'passed')];
    expect(await linesWithoutPassingTest(fromPhase5)).toEqual([line]);
  });

  it('names in its message only the lines without a passing test, and counts all lines when it holds', () => {
    const [line = ''] = lines;
    expect(everyLinePassedRule.message({ actual: [line], expected: lines })).toBe(`Checklist lines without a passing test: "${line}"`);
    expect(everyLinePassedRule.successMessage?.({ actual: [], expected: lines })).toBe(`All ${lines.length} checklist lines have a passing test`);
  });

  it('asks for no failures and at least one test per checklist line, counting the phase\'s own results only', () => {
    const [rules] = phaseQualityGate(phase1).rules;
    expect(rules).toMatchObject({ id: 'phase1', maxFailures: 0, minTestsCount: lines.length, everyLinePassed: lines });
    expect(rules?.filter(testResult(phaseById('phase5'), lines[0] ?? '', 'failed'))).toBe(false);
    expect(phaseQualityGate(phase1).use).toContain(everyLinePassedRule);
  });
});
