import type { IncomingMessage, ServerResponse } from 'node:http';

/** An error a route answers with: its status and a message a person can act on. */
export class HttpError extends Error {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  constructor(status: number, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.name = 'HttpError';
    this.status = status;
    this.headers = headers;
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(text);
}

/** Auth bodies are small JSON objects; anything else is refused before it is parsed. */
export async function readJsonObject(req: IncomingMessage, maxBytes = 64 * 1024): Promise<Record<string, unknown>> {
  const type = req.headers['content-type'] ?? '';
  if (!/^application\/json\b/i.test(type)) {
    throw new HttpError(415, `request body must be JSON: send content-type: application/json (got "${type || 'none'}")`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) throw new HttpError(413, `request body exceeds ${maxBytes} bytes`);
    chunks.push(chunk);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (error) {
    throw new HttpError(400, `request body is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new HttpError(400, 'request body must be a JSON object');
  }
  return parsed as Record<string, unknown>;
}

/** A required string field, trimmed; the error names the field and what it must look like. */
export function stringField(body: Record<string, unknown>, field: string, rule: { pattern?: RegExp; max: number; describe: string }): string {
  const value = body[field];
  if (value === undefined || value === null || value === '') throw new HttpError(400, `${field} is required: ${rule.describe}`);
  if (typeof value !== 'string') throw new HttpError(400, `${field} must be a string: ${rule.describe}`);
  const trimmed = value.trim();
  if (!trimmed || trimmed.length > rule.max || (rule.pattern && !rule.pattern.test(trimmed))) {
    throw new HttpError(400, `${field} is invalid: ${rule.describe}`);
  }
  return trimmed;
}

export function objectField(body: Record<string, unknown>, field: string, describe: string): Record<string, unknown> {
  const value = body[field];
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new HttpError(400, `${field} is required and must be an object: ${describe}`);
  }
  return value as Record<string, unknown>;
}
