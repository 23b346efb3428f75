import { describe, expect, test } from 'vitest';
import { MalformedMessageError, parseClientMessage } from './ws-messages.ts';

const close = (code: unknown, reason?: unknown): string => JSON.stringify({ type: 'close', code, ...(reason === undefined ? {} : { reason }) });

describe('what a desktop client may send over /ws', () => {
  test('close takes 1000 or an application code from 3000 to 4999, and nothing else', () => {
    for (const code of [1000, 3000, 4000, 4999]) expect(parseClientMessage(close(code, 'r')), String(code)).toEqual({ type: 'close', code, reason: 'r' });
    for (const code of [999, 1001, 1005, 1006, 1015, 2999, 5000, 4000.5, '4000']) {
      expect(() => parseClientMessage(close(code)), String(code)).toThrow(MalformedMessageError);
    }
  });

  test('a close reason is at most 123 bytes, counted in UTF-8, and empty when left out', () => {
    expect(parseClientMessage(close(4000, 'x'.repeat(123)))).toMatchObject({ reason: 'x'.repeat(123) });
    expect(() => parseClientMessage(close(4000, 'x'.repeat(124)))).toThrow(/at most 123 bytes/);
    // 62 two-byte characters: 62 characters, 124 bytes.
    expect(() => parseClientMessage(close(4000, 'é'.repeat(62)))).toThrow(/at most 123 bytes/);
    expect(parseClientMessage(close(1000))).toEqual({ type: 'close', code: 1000, reason: '' });
    expect(() => parseClientMessage(close(4000, 42))).toThrow(MalformedMessageError);
    for (const reason of [0, false]) expect(() => parseClientMessage(close(4000, reason)), String(reason)).toThrow(/must be a string/);
  });

  test('subscribe needs a non-blank desktop_id; ping and received need nothing else', () => {
    expect(parseClientMessage('{"type":"subscribe","desktop_id":"desk-1"}')).toEqual({ type: 'subscribe', desktop_id: 'desk-1' });
    for (const frame of ['{"type":"subscribe","desktop_id":"  "}', '{"type":"subscribe","desktop_id":7}', '{"type":"subscribe"}']) {
      expect(() => parseClientMessage(frame), frame).toThrow(/subscribe needs desktop_id/);
    }
    expect(parseClientMessage('{"type":"ping","extra":1}')).toEqual({ type: 'ping' });
    expect(parseClientMessage('{"type":"received"}')).toEqual({ type: 'received' });
  });

  test('anything that is not a JSON object with a known string type is refused as malformed', () => {
    for (const frame of ['hello', '[]', 'null', '"ping"', '{}', '{"type":1}', '{"type":"PING"}', '{"type":"launch"}']) {
      expect(() => parseClientMessage(frame), frame).toThrow(MalformedMessageError);
    }
  });
});
