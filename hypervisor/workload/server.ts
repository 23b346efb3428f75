import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../log.ts';
import { Conductor, runErrorCodes } from './conductor.ts';
import { loadDesktopAssets } from './desktop.ts';
import { crashAfterFirstHealthy, stopListeningAfterFirstHealthy } from './diagnostic-faults.ts';
import { createRoutes, handleErrors } from './routes.ts';
import { RunStore } from './run-store.ts';
import type { SandboxSettings } from './settings.ts';
import { WsHub } from './ws-hub.ts';

export interface RunningSandbox {
  url: string;
  port: number;
  /** Ends in-flight runs as interrupted, says goodbye to WebSocket clients and closes everything. */
  close(reason: string): Promise<void>;
}

function listen(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

export async function startSandbox(settings: SandboxSettings, log: Logger): Promise<RunningSandbox> {
  const store = new RunStore(settings.databaseUrl);
  // A run still "running" in the file was cut off by a crash or a kill: record it as such.
  const recovered = store.failUnfinished(
    { code: runErrorCodes.interrupted, message: 'the sandbox stopped before the run finished; start it again' },
    new Date().toISOString(),
  );
  if (recovered.length) log.warn({ event: 'conductor.runs_recovered', run_ids: recovered }, 'unfinished runs from a previous start recorded as failed');

  const conductor = new Conductor({ store, dataDir: settings.dataDir, stepMs: settings.conductorStepMs, log });
  const hub = new WsHub({ settings, store, log });
  conductor.onEvent((event) => hub.publish(event));

  // Set by the stop-listening diagnostic: with no listener nothing else may hold the process open, and it must stay up.
  let keptAlive: NodeJS.Timeout | undefined;
  const stopListening = (): void => {
    keptAlive = setInterval(() => undefined, 2 ** 30);
    hub.close();
    server.close();
    server.closeAllConnections();
  };
  const crash = crashAfterFirstHealthy(settings, log);
  const refuse = stopListeningAfterFirstHealthy(settings, log, stopListening);
  const afterHealthAnswer = (): void => {
    crash();
    refuse();
  };
  const routes = createRoutes({ settings, store, conductor, desktop: loadDesktopAssets(), afterHealthAnswer });
  const server = createServer(
    handleErrors(routes, (error, req) => log.error({ event: 'http.unexpected_error', err: error, method: req.method, url: req.url }, 'request failed')),
  );
  server.on('upgrade', (req, socket, head) => hub.handleUpgrade(req, socket, head));

  const port = await listen(server, settings.host, settings.port);
  const url = `http://${settings.host.includes(':') ? `[${settings.host}]` : settings.host}:${port}`;

  let closing: Promise<void> | undefined;
  const close = (reason: string): Promise<void> => {
    closing ??= new Promise<void>((resolve) => {
      clearInterval(keptAlive);
      conductor.interruptAll(reason);
      hub.close();
      server.close(() => resolve());
      server.closeAllConnections();
    }).finally(() => store.close());
    return closing;
  };
  return { url, port, close };
}
