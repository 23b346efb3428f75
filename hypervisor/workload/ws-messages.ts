/** What a desktop client may send over /ws, checked; anything else is answered with an `error` frame. */
export type ClientMessage = { type: 'ping' } | { type: 'received' } | { type: 'subscribe'; desktop_id: string } | CloseRequest;

/**
 * Diagnostic: the client asks the sandbox to close this connection with `code` and `reason`, so a
 * proxy's relay of close codes can be checked from the client's side (README's /ws protocol).
 */
export interface CloseRequest {
  type: 'close';
  code: number;
  reason: string;
}

/** A close frame's reason is at most 123 bytes (RFC 6455 5.5: 125 bytes of payload, 2 for the code). */
const maxCloseReasonBytes = 123;

function closeRequest(code: unknown, reason: unknown): CloseRequest {
  // 1000 or the application range: the codes an endpoint may choose (RFC 6455 7.4.2).
  if (typeof code !== 'number' || !Number.isInteger(code) || (code !== 1000 && (code < 3000 || code > 4999))) {
    throw new MalformedMessageError('close needs code, 1000 or an integer from 3000 to 4999');
  }
  const text = reason ?? '';
  if (typeof text !== 'string' || Buffer.byteLength(text) > maxCloseReasonBytes) {
    throw new MalformedMessageError(`close reason must be a string of at most ${maxCloseReasonBytes} bytes`);
  }
  return { type: 'close', code, reason: text };
}

export class MalformedMessageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MalformedMessageError';
  }
}

export function parseClientMessage(data: string): ClientMessage {
  let message: unknown;
  try {
    message = JSON.parse(data);
  } catch {
    throw new MalformedMessageError('message is not valid JSON: send an object like {"type":"ping"}');
  }
  if (typeof message !== 'object' || message === null || Array.isArray(message)) {
    throw new MalformedMessageError('message must be a JSON object with a "type" field');
  }
  const { type, desktop_id: desktopId, code, reason } = message as Record<string, unknown>;
  if (typeof type !== 'string') throw new MalformedMessageError('message needs a string "type" field (subscribe, ping, received or close)');
  if (type === 'ping' || type === 'received') return { type };
  if (type === 'close') return closeRequest(code, reason);
  if (type === 'subscribe') {
    if (typeof desktopId !== 'string' || !desktopId.trim()) {
      throw new MalformedMessageError('subscribe needs desktop_id, a non-empty string');
    }
    return { type, desktop_id: desktopId };
  }
  throw new MalformedMessageError(`unknown message type "${type}": send subscribe, ping, received or close`);
}
