import { describe, expect, it } from 'vitest';
import { phaseById } from '../suites/phases.ts';
import { acrossPhasesProblems, catalogueProblems, linesToRun, loadCatalogues } from './catalogue.ts';
import { exactTitles } from './gate-lines.ts';
import { renderKillTable } from './kill-table.ts';

// Cheap enough for every CI run: the seeded defects still fit the code (the run itself is nightly).
describe('the seeded-defect catalogues', () => {
  it('exist for phase1 at least, and each still applies to this checkout and covers every line', async () => {
    const catalogues = await loadCatalogues();
    expect(catalogues.map((c) => c.phase.id)).toContain('phase1');
    for (const catalogue of catalogues) expect(catalogueProblems(catalogue), catalogue.file).toEqual([]);
  });

  it('names a line with no defect, a title that is not a line, and an edit that no longer fits', async () => {
    const [phase1] = await loadCatalogues(['phase1']);
    if (!phase1) throw new Error('phase1 has no catalogue');
    const [first, ...rest] = phase1.defects;
    if (!first) throw new Error('phase1 has no defects');
    const broken = { ...phase1, defects: [{ ...first, caughtBy: ['Not a line.'], edits: [{ file: 'hypervisor/app.ts', find: 'text that is not there', replace: 'x' }] }, ...rest] };
    const problems = catalogueProblems(broken).join('\n');
    expect(problems).toContain(`defect "${first.id}": "Not a line." is not a phase1 checklist line`);
    expect(problems).toContain('the text to replace occurs 0 times in hypervisor/app.ts, not once');
    const uncovered = phaseById('phase1').checklist.find((l) => !rest.some((d) => d.caughtBy.includes(l.text)));
    if (uncovered) expect(problems).toContain(`no seeded defect for the phase1 line "${uncovered.text}"`);
  });

  it('accepts a line without a defect only when the catalogue says so, with a reason, and only while no defect names it', async () => {
    const [phase1] = await loadCatalogues(['phase1']);
    if (!phase1) throw new Error('phase1 has no catalogue');
    const line = phaseById('phase1').checklist[0]?.text ?? '';
    const others = phase1.defects.map((d) => ({ ...d, caughtBy: d.caughtBy.filter((l) => l !== line) })).filter((d) => d.caughtBy.length);
    expect(catalogueProblems({ ...phase1, defects: others }).join('\n')).toContain(`no seeded defect for the phase1 line "${line}"`);
    expect(catalogueProblems({ ...phase1, defects: others, linesWithoutDefects: [{ line, why: 'its test is being rewritten' }] })).toEqual([]);
    expect(catalogueProblems({ ...phase1, defects: others, linesWithoutDefects: [{ line, why: ' ' }] }).join('\n')).toContain(`excuses "${line}" without saying why`);
    expect(catalogueProblems({ ...phase1, linesWithoutDefects: [{ line, why: 'stale' }] }).join('\n')).toContain(`excuses "${line}", but a defect names it now`);
    expect(catalogueProblems({ ...phase1, linesWithoutDefects: [{ line: 'Not a line.', why: 'x' }] }).join('\n')).toContain('linesWithoutDefects names "Not a line."');
  });

  it('selects lines by their exact title, special characters included', () => {
    const grep = new RegExp(exactTitles(['`podman ps` lifecycle output attached.', 'Hypervisor can route/swap between live/dev for rollback.']));
    expect(grep.test('phase1 evidence.spec.ts `podman ps` lifecycle output attached.')).toBe(true);
    expect(grep.test('phase1 definition-of-done.spec.ts Hypervisor can route/swap between live/dev for rollback.')).toBe(true);
    expect(grep.test('phase1 evidence.spec.ts `podman ps` lifecycle output attachedX')).toBe(false);
  });

  it('runs the lines a defect names, or with --any-line every line of its phase, and says which measure the rate counts', () => {
    const phase3 = phaseById('phase3');
    const defect = { id: 'x', what: 'x', caughtBy: [phase3.checklist[0]?.text ?? ''], edits: [] };
    expect(linesToRun(defect, phase3, 'meant')).toEqual(defect.caughtBy);
    expect(linesToRun(defect, phase3, 'phase')).toEqual(phase3.checklist.map((line) => line.text));
    const row = { defect: 'phase3/x', caughtBy: defect.caughtBy, result: 'caught' as const, failedLines: [phase3.checklist[1]?.text ?? ''], firstError: undefined, seconds: 1 };
    expect(renderKillTable([row])).toContain('1/1 seeded defects caught by the lines meant for them');
    expect(renderKillTable([row], 'phase')).toContain('1/1 seeded defects caught by any line of their phase (--any-line)');
    expect(linesToRun(defect, phase3, 'all')).toEqual(phase3.checklist.map((line) => line.text));
    expect(renderKillTable([row], 'all')).toContain('1/1 seeded defects caught by any line of any phase run (--any-phase)');
    expect(renderKillTable([row], 'all')).toContain('with the unit tests');
  });

  it('accepts a line of any phase as the guess of an unseen catalogue measured across phases (--any-phase), and still checks the edits', () => {
    const edit = { file: 'hypervisor/app.ts', find: 'text that is not there', replace: 'x' };
    const defects = [
      { id: 'a', what: 'x', caughtBy: [phaseById('phase5').checklist[0]?.text ?? ''], edits: [] },
      { id: 'a', what: 'x', caughtBy: ['Not a line.'], edits: [edit] },
    ];
    const problems = acrossPhasesProblems('/tmp/unseen.ts', defects).join('\n');
    expect(problems).not.toContain(`"${defects[0]?.caughtBy[0] ?? ''}" is not`);
    expect(problems).toContain('"Not a line." is not any phase\'s checklist line');
    expect(problems).toContain('defect "a": the id is used twice');
    expect(problems).toContain('defect "a": has no edit');
    expect(problems).toContain('the text to replace occurs 0 times in hypervisor/app.ts, not once');
  });
});
