import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpError } from './errors.ts';

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.end(writeJsonHead(res, status, body, headers));
}

/** Writes the head of a JSON answer (length, no-store) and returns the body's text, for the caller to send. */
export function writeJsonHead(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): string {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store', ...headers });
  return text;
}

export function sendError(res: ServerResponse, error: HttpError): void {
  sendJson(res, error.status, { error: error.message, ...error.details }, { ...error.headers });
}

export const defaultBodyLimitBytes = 64 * 1024;

/** The raw request body, refusing (413) more than limitBytes before reading it all. */
export async function readBody(req: IncomingMessage, limitBytes = defaultBodyLimitBytes): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limitBytes) {
    throw new HttpError(413, `request body too large: ${declared} bytes, the limit is ${limitBytes}`);
  }
  // Events, not `for await`: leaving that loop early destroys the request, and the server then takes
  // the refused client for one that went away and answers nothing instead of the 413.
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    req.on('data', (chunk: Buffer) => {
      if (refused) return;
      size += chunk.length;
      if (size <= limitBytes) return void chunks.push(chunk);
      // The rest is read and dropped, so the 413 can be answered on this connection.
      refused = true;
      reject(new HttpError(413, `request body too large: more than ${limitBytes} bytes`));
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
    // Closed before its end: the client went away mid-body (a settled promise ignores this).
    req.on('close', () => reject(new Error('the client went away before sending the whole body')));
  });
}

/**
 * The body parsed as JSON. Empty bodies give `undefined` (routes decide whether that is allowed);
 * anything else must be JSON, or the answer is a 400 saying what is wrong.
 */
export async function readJson(req: IncomingMessage, limitBytes = defaultBodyLimitBytes): Promise<unknown> {
  const body = await readBody(req, limitBytes);
  if (body.length === 0) return undefined;
  const type = req.headers['content-type'] ?? '';
  if (type && !/^application\/([\w.+-]+\+)?json\b/i.test(type)) {
    throw new HttpError(415, `request body must be JSON (content-type application/json), got ${JSON.stringify(type)}`);
  }
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch (error) {
    throw new HttpError(400, `request body is not valid JSON: ${(error as Error).message}`);
  }
}

/** A JSON object body (or {} when empty); 400 naming the problem otherwise. */
export async function readJsonObject(req: IncomingMessage, limitBytes = defaultBodyLimitBytes): Promise<Record<string, unknown>> {
  const value = await readJson(req, limitBytes);
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new HttpError(400, `request body must be a JSON object, got ${Array.isArray(value) ? 'an array' : value === null ? 'null' : typeof value}`);
  }
  return value as Record<string, unknown>;
}
