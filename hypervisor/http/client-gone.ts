import type { IncomingMessage } from 'node:http';
import type { Logger } from '../log.ts';

/**
 * Whether a handler failed because its client went away mid-request (disconnected while sending
 * the body, or was cut off for being too slow): the request never arrived whole and its connection
 * is gone. That is the client's doing, not a fault of ours: nothing to answer, nothing to alarm.
 */
export function clientWentAway(req: IncomingMessage): boolean {
  return !req.complete && (req.destroyed || req.socket.destroyed);
}

/** Logs the abandoned request at info level (event http.client_aborted); answers nothing. */
export function logClientAborted(log: Logger, req: IncomingMessage, path: string, error: unknown): void {
  log.info({ event: 'http.client_aborted', method: req.method, path, reason: (error as Error).message }, 'the client went away before sending the whole request');
}
