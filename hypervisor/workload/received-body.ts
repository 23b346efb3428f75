import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendJson } from '../http/json.ts';

/**
 * How many request body bytes reached this sandbox: read to the end and counted, never kept, so a
 * body of any size costs only its transfer. A gate streams bodies here through the proxy on any target
 * running this workload: one under the proxy's limit arrives whole; one over it must be refused by the
 * proxy, so this never answers for it. (The JSON routes stop reading at 64 KiB and answer 413 first,
 * which would hide whether the proxy counted at all.)
 */
export const receivedBodyPath = '/diagnostics/received-body';

export interface ReceivedBody {
  bytes: number;
}

export async function sendReceivedBody(req: IncomingMessage, res: ServerResponse): Promise<void> {
  let bytes = 0;
  try {
    for await (const chunk of req) bytes += (chunk as Buffer).length;
  } catch (error) {
    // The proxy cut the body off (its limit): nobody is left to answer.
    if (req.destroyed) return;
    throw error;
  }
  sendJson(res, 200, { bytes } satisfies ReceivedBody);
}
