import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the stand-in answers for `METHOD url`: a status (200 when left out) and a JSON body. */
export interface AdminAnswer {
  status?: number;
  body: unknown;
}

/**
 * A loopback stand-in for the admin API the operator CLI talks to: it answers each `METHOD url`
 * from `answers` (404 naming the request for anything else) and keeps what it received, so a
 * test says what the API holds and reads what the CLI asked for.
 */
export interface LoopbackAdminApi {
  url: string;
  answers: Map<string, AdminAnswer>;
  /** Each request in order: `METHOD url` and its JSON body, if it had one. */
  received: { request: string; body: unknown }[];
  /** Forgets the answers and what was received (between tests). */
  reset(): void;
  close(): Promise<void>;
}

export async function startLoopbackAdminApi(): Promise<LoopbackAdminApi> {
  const answers = new Map<string, AdminAnswer>();
  const received: { request: string; body: unknown }[] = [];
  const server = createServer((req, res) => {
    let text = '';
    req.on('data', (chunk: Buffer) => (text += String(chunk)));
    req.on('end', () => {
      const request = `${req.method ?? ''} ${req.url ?? ''}`;
      received.push({ request, body: text ? (JSON.parse(text) as unknown) : undefined });
      const answer = answers.get(request) ?? { status: 404, body: { error: `no answer for ${request}` } };
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
