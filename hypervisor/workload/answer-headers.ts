import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpError } from '../http/errors.ts';
import { sendJson } from '../http/json.ts';

/**
 * A diagnostic answer carrying the response headers the caller asks for, from a fixed list: the ones
 * that act on the origin a page is served from (its cookies, its stored data, how far a service worker
 * may reach, HTTPS pinning, where its reports go, where its requests go). Behind the hypervisor a sandbox shares the origin of the login pages, so the proxy must
 * drop every one of them; a gate asks a sandbox to send them through the proxy, on any target running
 * this workload, and checks that the browser gets none, instead of trusting the proxy's list.
 *
 * Only these names: an answer with any header a caller names would let a link set, say, Content-Type
 * or Location on the hypervisor's origin. The body stays JSON (nosniff), so a value is never a page.
 */
export const answerHeadersPath = '/diagnostics/answer-headers';

/**
 * Asked for only with this request header: a link, a form or an <img> cannot send a custom header, and a
 * cross-site fetch sending one needs a CORS preflight the sandbox never grants, so a signed-in victim
 * opening a crafted link does not make their own sandbox emit these headers (the proxy's drop list would
 * otherwise be the only defence). Not `x-choiros-*`: the proxy strips that prefix towards a sandbox.
 */
export const answerHeadersRequest = { name: 'x-sandbox-diagnostic', value: 'answer-headers' } as const;

export const originStateHeaders = ['set-cookie', 'clear-site-data', 'service-worker-allowed', 'strict-transport-security', 'nel', 'report-to', 'reporting-endpoints', 'alt-svc'] as const;
export type OriginStateHeader = (typeof originStateHeaders)[number];

export interface AnsweredHeaders {
  /** What this sandbox put on its answer, by header (Set-Cookie may repeat). */
  sent: Partial<Record<OriginStateHeader, string[]>>;
}

const isOriginStateHeader = (name: string): name is OriginStateHeader => (originStateHeaders as readonly string[]).includes(name);

// Field values as RFC 9110 allows them (visible ASCII, space, tab): anything else Node would refuse as a 500.
const fieldValue = /^[\t\x20-\x7e]*$/;

/** Reads `?set-cookie=...&clear-site-data=...` (names in any case, repeatable); refuses any other name or a value with control characters. */
export function askedHeaders(url: URL): AnsweredHeaders['sent'] {
  const sent: AnsweredHeaders['sent'] = {};
  for (const [rawName, value] of url.searchParams) {
    const name = rawName.toLowerCase();
    if (!isOriginStateHeader(name)) throw new HttpError(400, `${answerHeadersPath} sets only ${originStateHeaders.join(', ')}; "${rawName}" is none of them`, { field: rawName });
    if (!fieldValue.test(value)) throw new HttpError(400, `the value asked for ${name} has a control character; send visible ASCII only`, { field: rawName });
    (sent[name] ??= []).push(value);
  }
  return sent;
}

export function sendAnswerHeaders(req: IncomingMessage, url: URL, res: ServerResponse): void {
  if (req.headers[answerHeadersRequest.name] !== answerHeadersRequest.value) {
    throw new HttpError(400, `${answerHeadersPath} answers only a request sending the header ${answerHeadersRequest.name}: ${answerHeadersRequest.value} (a navigation cannot send it)`, { field: answerHeadersRequest.name });
  }
  const sent = askedHeaders(url);
  for (const [name, values] of Object.entries(sent)) res.setHeader(name, values);
  const answer: AnsweredHeaders = { sent };
  sendJson(res, 200, answer, { 'x-content-type-options': 'nosniff' });
}
