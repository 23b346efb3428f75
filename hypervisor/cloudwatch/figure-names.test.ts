import { describe, expect, it } from 'vitest';
import { documentedUnits } from '../../fixtures/runtime-metrics/documented-units.ts';
import { figureNames, figureUnits } from './figure-names.ts';

describe('the key figures and their units (figure-names.ts)', () => {
  it('publishes each figure in the unit the README documents', () => {
    // documentedUnits is the README's table written out by hand; the publisher takes figureUnits.
    expect(figureUnits).toEqual(documentedUnits);
    expect([...figureNames].sort()).toEqual(Object.keys(documentedUnits).sort());
  });
});
