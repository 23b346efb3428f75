import { describe, expect, it } from 'vitest';
import { rollbackAllResultsOf } from './admin-answers.ts';

describe("the per-user results of POST /admin/rollback's answer", () => {
  it('are read from an answer or a refusal that carries them', () => {
    const results = [{ ok: false, user_id: 'alice', error: 'no known-good release' }];
    expect(rollbackAllResultsOf({ error: 'some users failed', results })).toEqual(results);
    expect(rollbackAllResultsOf({ results: [] })).toEqual([]);
  });

  it('are undefined for a body without a results list', () => {
    expect(rollbackAllResultsOf({ error: 'unauthorized' })).toBeUndefined();
    expect(rollbackAllResultsOf({ results: 'none' })).toBeUndefined();
    expect(rollbackAllResultsOf(null)).toBeUndefined();
    expect(rollbackAllResultsOf('results')).toBeUndefined();
  });
});
