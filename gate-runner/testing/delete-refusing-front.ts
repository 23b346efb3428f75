import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { onTestFinished } from 'vitest';

/**
 * A front for a target that passes every listing on to it and answers every DELETE 503, as a
 * target under maintenance would; closed when the test finishes. Returns the front's URL.
 */
export async function deleteRefusingFront(targetUrl: string): Promise<string> {
  const front = createServer((req, res) => {
    void (async () => {
      if (req.method === 'DELETE') {
        res.writeHead(503, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: 'maintenance' }));
        return;
      }
      const answer = await fetch(new URL(req.url ?? '/', targetUrl), { headers: { authorization: req.headers.authorization ?? '' } });
      res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' });
      res.end(Buffer.from(await answer.arrayBuffer()));
    })();
  });
  return listeningFront(front);
}

/** Listens on a loopback port until the test finishes; returns the URL. */
export async function listeningFront(front: Server): Promise<string> {
  await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
  onTestFinished(() => new Promise<void>((resolve) => front.close(() => resolve())));
  return `http://127.0.0.1:${(front.address() as AddressInfo).port}`;
}
