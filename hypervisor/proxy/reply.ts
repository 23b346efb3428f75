import type { ServerResponse } from 'node:http';
import { sendJson } from '../http/json.ts';

/** The proxy's own answers (not the sandbox's); once the sandbox's answer has begun, only a cut is left. */
export function replyError(res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJson(res, status, { error: message }, headers);
}
