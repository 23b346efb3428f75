import { connect, type Socket } from 'node:net';
import { once } from 'node:events';

/** A raw TCP connection that keeps everything the server sent, for tests that speak HTTP by hand. */
export type RawConnection = Socket & { received: () => string };

/** A raw loopback connection to `port`, from `localAddress` (another loopback address counts as another client). */
export async function rawConnection(port: number, localAddress = '127.0.0.1'): Promise<RawConnection> {
  const socket = connect({ host: '127.0.0.1', port, localAddress });
  let received = '';
  socket.on('data', (chunk: Buffer) => (received += chunk.toString('utf8')));
  socket.on('error', () => undefined);
  await once(socket, 'connect');
  return Object.assign(socket, { received: () => received });
}

/** Everything the server sent until it closed the connection. */
export async function untilClosed(socket: RawConnection): Promise<string> {
  if (!socket.destroyed) await once(socket, 'close');
  return socket.received();
}
