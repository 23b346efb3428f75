import { describe, expect, test } from 'vitest';
import { HttpError } from '../http/errors.ts';
import { parseExecuteRequest } from './execute-request.ts';

/** The field a refused body is answered with (400 {error, field}). */
function refusedField(body: unknown): string | undefined {
  try {
    parseExecuteRequest(body);
  } catch (error) {
    if (!(error instanceof HttpError)) throw error;
    expect(error.status).toBe(400);
    return String(error.details.field);
  }
  return undefined;
}

describe('POST /conductor/execute body', () => {
  test('output_mode defaults to markdown_report_to_writer; auto is taken as given; the objective is trimmed', () => {
    expect(parseExecuteRequest({ objective: '  Write it up \n', desktop_id: 'desk-1' })).toEqual({ objective: 'Write it up', desktopId: 'desk-1', outputMode: 'markdown_report_to_writer' });
    expect(parseExecuteRequest({ objective: 'x', desktop_id: 'd', output_mode: 'auto' }).outputMode).toBe('auto');
  });

  test('an objective of up to 10000 characters is taken, a longer one refused naming objective', () => {
    expect(refusedField({ objective: 'x'.repeat(10_000), desktop_id: 'd' })).toBeUndefined();
    expect(refusedField({ objective: 'x'.repeat(10_001), desktop_id: 'd' })).toBe('objective');
  });

  test('desktop_id is 1-128 letters, digits, ".", "_", ":" or "-"', () => {
    for (const desktopId of ['a', 'A.b_c:d-9', 'd'.repeat(128)]) expect(refusedField({ objective: 'x', desktop_id: desktopId }), desktopId).toBeUndefined();
    for (const desktopId of ['', 'd'.repeat(129), 'a/b', 'a b', 'é', 12]) expect(refusedField({ objective: 'x', desktop_id: desktopId }), String(desktopId)).toBe('desktop_id');
  });

  test('output_mode other than the two modes is refused naming output_mode, and the first bad field is the one named', () => {
    for (const outputMode of ['pdf', '', null, 1]) expect(refusedField({ objective: 'x', desktop_id: 'd', output_mode: outputMode }), String(outputMode)).toBe('output_mode');
    expect(refusedField({ objective: '', desktop_id: 'bad id', output_mode: 'pdf' })).toBe('objective');
  });

  test('a whitespace-only objective is refused naming objective; a body that is not a JSON object (null, an array, a string) is refused with 400', () => {
    expect(refusedField({ objective: ' \n\t ', desktop_id: 'd' })).toBe('objective');
    for (const body of [null, [], [{ objective: 'x', desktop_id: 'd' }], 'objective', 7]) {
      expect(() => parseExecuteRequest(body), JSON.stringify(body)).toThrow(/request body must be a JSON object/);
    }
  });
});
