import type { IncomingMessage, ServerResponse } from 'node:http';
import { Transform, type Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { towardsClient, towardsSandbox } from './headers.ts';
import type { ProxyLimits } from './limits.ts';
import type { SandboxLeg } from './sandbox-leg.ts';
import { replyError, replyErrorMidBody } from './reply.ts';

class LimitExceeded extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.name = 'LimitExceeded';
    this.status = status;
  }
}

export interface RelayRequest extends SandboxLeg {
  req: IncomingMessage;
  res: ServerResponse;
  pool: Dispatcher;
  /** Called once, with the status the client got (0 when the exchange was cut off). */
  done(status: number): void;
}

/** The request body as undici should send it: none, the request itself, or a byte-counting pass-through. */
function requestBody(req: IncomingMessage, limits: ProxyLimits): Readable | null | LimitExceeded {
  const length = req.headers['content-length'];
  if (length !== undefined) {
    if (Number(length) > limits.maxRequestBodyBytes) {
      return new LimitExceeded(413, `request body of ${length} bytes exceeds the limit of ${limits.maxRequestBodyBytes} bytes`);
    }
    // undici checks that the body matches the declared length, so counting is not needed.
    return Number(length) === 0 ? null : req;
  }
  if (req.headers['transfer-encoding'] === undefined) return null;
  let seen = 0;
  const counted = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      seen += chunk.length;
      if (seen > limits.maxRequestBodyBytes) callback(new LimitExceeded(413, `request body exceeds the limit of ${limits.maxRequestBodyBytes} bytes`));
      else callback(null, chunk);
    },
  });
  req.on('error', (error) => counted.destroy(error));
  return req.pipe(counted);
}

function describeFailure(error: Error & { code?: string }, port: number, limits: ProxyLimits): { status: number; message: string } {
  if (error instanceof LimitExceeded) return { status: error.status, message: error.message };
  const cause = (error.cause ?? {}) as { code?: string };
  const code = error.code ?? cause.code;
  switch (code) {
    case 'ECONNREFUSED':
      return { status: 502, message: `the sandbox refused the connection (port ${port}): it may be restarting; retry shortly` };
    case 'UND_ERR_HEADERS_TIMEOUT':
      return { status: 504, message: `the sandbox did not answer within ${limits.responseHeadersTimeoutMs} ms` };
    case 'UND_ERR_BODY_TIMEOUT':
      return { status: 504, message: `the sandbox stopped sending its response for ${limits.responseIdleTimeoutMs} ms` };
    case 'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH':
      return { status: 400, message: 'the request body does not match its content-length header' };
    default:
      return { status: 502, message: `the sandbox connection failed (${code ?? error.message})` };
  }
}

/**
 * Relays one HTTP exchange through undici's dispatcher API, streaming both ways: every chunk from
 * the sandbox is written to the client as it arrives (server-sent events stay live), and the
 * sandbox is paused while the client cannot keep up.
 */
export function relayHttp(relay: RelayRequest): void {
  const { req, res, pool, port, limits, log } = relay;
  let finished = false;
  const finish = (status: number): void => {
    if (finished) return;
    finished = true;
    relay.done(status);
  };
  const fail = (error: Error & { code?: string }): void => {
    // The client is gone (its leaving aborted the exchange): nobody to answer.
    if (res.destroyed) return finish(0);
    const { status, message } = describeFailure(error, port, limits);
    if (res.headersSent) {
      log.warn({ event: 'proxy.response_cut', path: relay.path, user: relay.identity.userId, role: relay.identity.role, reason: message });
      res.destroy();
      finish(0);
      return;
    }
    log.warn({ event: 'proxy.error', path: relay.path, user: relay.identity.userId, role: relay.identity.role, status, reason: message });
    if (req.complete) replyError(res, status, message);
    else replyErrorMidBody(req, res, status, message);
    finish(status);
  };

  const body = requestBody(req, limits);
  if (body instanceof LimitExceeded) {
    fail(body);
    return;
  }

  let controller: Dispatcher.DispatchController | null = null;
  let received = 0;
  let expected = -1;
  const resume = (): void => controller?.resume();
  res.on('close', () => {
    // The client went away before the sandbox finished: stop the upstream exchange too.
    if (!res.writableFinished && controller && !controller.aborted) controller.abort(new Error('client closed the connection'));
    finish(res.writableFinished ? res.statusCode : 0);
  });

  const handler: Dispatcher.DispatchHandler = {
    onRequestStart(c) {
      controller = c;
    },
    onResponseStart(c, statusCode, headers) {
      const declared = headers['content-length'] === undefined ? -1 : Number(headers['content-length']);
      if (declared > limits.maxResponseBodyBytes) {
        c.abort(new LimitExceeded(502, `the sandbox's response of ${declared} bytes exceeds the limit of ${limits.maxResponseBodyBytes} bytes`));
        return;
      }
      res.writeHead(statusCode, towardsClient(headers));
      expected = declared;
      // A body of unknown length may be a stream of events: send the head now, not with the first chunk.
      if (declared < 0) res.flushHeaders();
    },
    onResponseData(c, chunk) {
      received += chunk.length;
      if (received > limits.maxResponseBodyBytes) {
        c.abort(new LimitExceeded(502, `the sandbox's response exceeds the limit of ${limits.maxResponseBodyBytes} bytes`));
        return;
      }
      // The last chunk of a body of known length ends the response in the same write as the head.
      if (received === expected) res.end(chunk);
      else if (!res.write(chunk)) {
        c.pause();
        res.once('drain', resume);
      }
    },
    onResponseEnd() {
      if (!res.writableEnded) res.end();
    },
    onResponseError(_c, error) {
      fail(error);
    },
  };

  try {
    pool.dispatch(
      {
        path: relay.path,
        method: req.method ?? 'GET',
        headers: towardsSandbox(req, relay.identity, relay.forwarding),
        body,
      },
      handler,
    );
  } catch (error) {
    fail(error as Error);
  }
}
