import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendJson, writeJsonHead } from '../http/json.ts';

/** The proxy's own answers (not the sandbox's); once the sandbox's answer has begun, only a cut is left. */
export function replyError(res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJson(res, status, { error: message }, headers);
}

/** How long a refused request may go on sending the body nobody reads before its connection is closed anyway. */
export const refusedBodyLingerMs = 5_000;

/**
 * The proxy's answer to a request whose body it will not read to the end (over the limit, or the
 * sandbox gone mid-body): sent at once and saying connection: close, but the socket closes only once
 * the rest of the body has been read and dropped, or after refusedBodyLingerMs. Closing with bytes
 * unread makes the kernel answer the client's next bytes with a reset, which can destroy the answer
 * before the client has read it (a client still writing then sees EPIPE, not the 413).
 */
export function replyErrorMidBody(req: IncomingMessage, res: ServerResponse, status: number, message: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.write(writeJsonHead(res, status, { error: message }, { connection: 'close' }));
  const close = (): void => {
    clearTimeout(linger);
    if (!res.writableEnded) res.end();
  };
  const linger = setTimeout(close, refusedBodyLingerMs);
  req.once('end', close);
  req.once('close', close);
  req.unpipe();
  req.resume();
}
