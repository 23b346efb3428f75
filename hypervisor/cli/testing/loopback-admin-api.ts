import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the stand-in answers: a status (200 when left out) and a JSON body. */
export interface AdminAnswer {
  status?: number;
  body: unknown;
}

/** A request as the stand-in received it. */
export interface ReceivedAdminRequest {
  /** `METHOD url`, the key of `answers`. */
  request: string;
  method: string;
  url: string;
  authorization: string | undefined;
  body: Record<string, unknown> | undefined;
}

/**
 * A loopback stand-in for the admin API the operator CLI talks to: it answers each `METHOD url`
 * from `answers`, else from the fallback it was started with, else 404 naming the request; and it
 * keeps what it received, so a test says what the API holds and reads what the CLI asked for.
 */
export interface LoopbackAdminApi {
  url: string;
  answers: Map<string, AdminAnswer>;
  /** Each request in order. */
  received: ReceivedAdminRequest[];
  /** Forgets the answers and what was received (between tests). */
  reset(): void;
  close(): Promise<void>;
}

export async function startLoopbackAdminApi(fallback?: (request: ReceivedAdminRequest) => AdminAnswer): Promise<LoopbackAdminApi> {
  const answers = new Map<string, AdminAnswer>();
  const received: ReceivedAdminRequest[] = [];
  const server = createServer((req, res) => {
    let text = '';
    req.on('data', (chunk: Buffer) => (text += String(chunk)));
    req.on('end', () => {
      const method = req.method ?? '';
      const url = req.url ?? '';
      const request: ReceivedAdminRequest = { request: `${method} ${url}`, method, url, authorization: req.headers.authorization, body: text ? (JSON.parse(text) as Record<string, unknown>) : undefined };
      received.push(request);
      const answer = answers.get(request.request) ?? fallback?.(request) ?? { status: 404, body: { error: `no answer for ${request.request}` } };
      res.writeHead(answer.status ?? 200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    answers,
    received,
    reset() {
      answers.clear();
      received.length = 0;
    },
    close: () => new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve()))),
  };
}
