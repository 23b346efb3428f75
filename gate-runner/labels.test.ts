import { describe, expect, it } from 'vitest';
import { phaseById } from '../suites/phases.ts';
import { gateLabels, NotAChecklistLineError } from './labels.ts';

const phase1 = phaseById('phase1');

describe('Allure labels of a gate test', () => {
  it('are the phase as epic, the line\'s area as feature and the line as story', () => {
    for (const line of phase1.checklist) expect(gateLabels(phase1, line.text)).toEqual({ epic: phase1.title, feature: line.area, story: line.text });
  });

  it('refuse a title that is not a checklist line word for word, naming it, the phase and the lines', () => {
    const [line] = phase1.checklist;
    if (!line) throw new Error('phase1 has no lines');
    const almost = line.text.replace(/\.$/, '');
    expect(() => gateLabels(phase1, almost)).toThrow(NotAChecklistLineError);
    expect(() => gateLabels(phase1, almost)).toThrow(`test "${almost}" in the phase1 suite is not one of ${phase1.title}'s checklist lines`);
    expect(() => gateLabels(phase1, almost)).toThrow(`"${line.text}"`);
    expect(() => gateLabels(phase1, line.text.toLowerCase())).toThrow(NotAChecklistLineError);
    expect(() => gateLabels(phase1, `${line.text} `)).toThrow(NotAChecklistLineError);
  });
});
