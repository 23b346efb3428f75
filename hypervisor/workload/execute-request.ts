import type { ExecuteRequest } from './conductor.ts';
import { outputModes, type OutputMode } from './run.ts';
import { HttpError } from '../http/errors.ts';

const maxObjectiveLength = 10_000;
const desktopIdPattern = /^[A-Za-z0-9._:-]{1,128}$/;

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Checks a POST /conductor/execute body; a 400 names the first bad field and what it should be. */
export function parseExecuteRequest(body: unknown): ExecuteRequest {
  if (!isRecord(body)) throw new HttpError(400, 'request body must be a JSON object with objective and desktop_id');
  const { objective, desktop_id: desktopId, output_mode: outputMode } = body;
  if (typeof objective !== 'string' || !objective.trim()) {
    throw new HttpError(400, 'objective must be a non-empty string', { field: 'objective' });
  }
  if (objective.length > maxObjectiveLength) {
    throw new HttpError(400, `objective must be at most ${maxObjectiveLength} characters`, { field: 'objective' });
  }
  if (typeof desktopId !== 'string' || !desktopIdPattern.test(desktopId)) {
    throw new HttpError(400, 'desktop_id must be a string of 1-128 letters, digits, ".", "_", ":" or "-"', { field: 'desktop_id' });
  }
  if (outputMode !== undefined && (typeof outputMode !== 'string' || !(outputModes as readonly string[]).includes(outputMode))) {
    throw new HttpError(400, `output_mode must be one of ${outputModes.join(', ')} (or left out)`, { field: 'output_mode' });
  }
  return { objective: objective.trim(), desktopId, outputMode: (outputMode as OutputMode | undefined) ?? 'markdown_report_to_writer' };
}
