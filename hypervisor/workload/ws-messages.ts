/** What a desktop client may send over /ws, checked; anything else is answered with an `error` frame. */
export type ClientMessage = { type: 'ping' } | { type: 'subscribe'; desktop_id: string };

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
  const { type, desktop_id: desktopId } = message as Record<string, unknown>;
  if (typeof type !== 'string') throw new MalformedMessageError('message needs a string "type" field (subscribe or ping)');
  if (type === 'ping') return { type };
  if (type === 'subscribe') {
    if (typeof desktopId !== 'string' || !desktopId.trim()) {
      throw new MalformedMessageError('subscribe needs desktop_id, a non-empty string');
    }
    return { type, desktop_id: desktopId };
  }
  throw new MalformedMessageError(`unknown message type "${type}": send subscribe or ping`);
}
