import { describe, expect, it } from 'vitest';
import { phaseById } from '../suites/phases.ts';
import { sampleRun, tempDir } from './sample-run.ts';

const phase1 = phaseById('phase1');
const [firstLine = ''] = phase1.checklist.map((line) => line.text);

describe('a sample gate run for the gate library\'s own tests', () => {
  it('fails its quality gate when a line failed, broke or did not run, and holds it only when every line passed', async () => {
    expect((await sampleRun(phase1, await tempDir('sample'))).qualityGate.passed).toBe(true);
    for (const options of [{ failing: [firstLine] }, { otherwise: { [firstLine]: 'broken' as const } }, { otherwise: { [firstLine]: 'not run' as const } }]) {
      const verdict = await sampleRun(phase1, await tempDir('sample'), options);
      expect(verdict.qualityGate.passed, JSON.stringify(options)).toBe(false);
      expect(verdict.passed).toBe(false);
    }
  });
});
