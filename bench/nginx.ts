import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { accessSync, constants, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { request } from 'undici';
import { waitFor } from '../fixtures/test-hypervisor.ts';
import { allocatePort } from '../hypervisor/sandboxes/ports.ts';

/** Debian's nginx, the proxy bench's baseline; NGINX_BINARY names another. */
export const nginxBinary = (): string => process.env.NGINX_BINARY?.trim() || '/usr/sbin/nginx';

/** Throws, saying how to get it, when nginx cannot be run: set-up does not install it (see below). */
export function requireNginx(binary: string = nginxBinary()): void {
  try {
    accessSync(binary, constants.X_OK);
  } catch {
    // Not in scripts/setup.sh: Debian's package starts a service on 0.0.0.0:80 when installed, and only this bench needs it.
    throw new Error(
      `nginx is missing (${binary}): the proxy bench measures the hypervisor against it. Install it with ` +
        '`apt-get install -y nginx-light` (then `service nginx stop`: the bench runs its own on loopback), or set NGINX_BINARY to an nginx executable.',
    );
  }
}

export interface Nginx {
  url: string;
  workerPid: number;
  stop(): Promise<void>;
}

/** nginx in the foreground with a private prefix, proxying to the sandbox as a reverse proxy would. */
export async function startNginx(upstreamPort: number, binary: string = nginxBinary()): Promise<Nginx> {
  requireNginx(binary);
  const prefix = mkdtempSync(path.join(tmpdir(), 'choiros-bench-nginx-'));
  for (const dir of ['logs', 'temp']) mkdirSync(path.join(prefix, dir));
  const port = await allocatePort(new Set());
  const conf = path.join(prefix, 'nginx.conf');
  writeFileSync(
    conf,
    `daemon off;
worker_processes 1;
pid ${prefix}/nginx.pid;
error_log ${prefix}/logs/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${prefix}/temp/body;
  proxy_temp_path ${prefix}/temp/proxy;
  fastcgi_temp_path ${prefix}/temp/fastcgi;
  uwsgi_temp_path ${prefix}/temp/uwsgi;
  scgi_temp_path ${prefix}/temp/scgi;
  map $http_upgrade $connection_upgrade { default upgrade; '' ''; }
  upstream sandbox { server 127.0.0.1:${upstreamPort}; keepalive 64; }
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://sandbox;
      proxy_http_version 1.1;
      proxy_set_header Host $host;
      proxy_set_header Connection $connection_upgrade;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Cookie "";
      proxy_set_header X-Forwarded-For $remote_addr;
      proxy_set_header X-Forwarded-Proto $scheme;
    }
  }
}
`,
  );
  const child: ChildProcess = spawn(binary, ['-p', prefix, '-c', conf, '-e', path.join(prefix, 'logs', 'error.log')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  let failedToStart: Error | undefined;
  // Without a listener a spawn failure (ENOENT) is an uncaught error that skips the bench's clean-up.
  child.once('error', (error) => (failedToStart = error));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitFor(
      `nginx on ${url} (${stderr})`,
      async () => {
        if (failedToStart) throw new Error(`nginx could not start (${binary}): ${failedToStart.message}`);
        if (child.exitCode !== null) throw new Error(`nginx exited with ${child.exitCode}: ${stderr}`);
        try {
          const res = await request(`${url}/`);
          await res.body.dump();
          return res.statusCode === 200 ? true : undefined;
        } catch {
          return undefined;
        }
      },
      10_000,
    );
  } catch (error) {
    child.kill('SIGKILL');
    rmSync(prefix, { recursive: true, force: true });
    throw error;
  }
  const workerPid = Number(readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(/\s+/)[0]);
  return {
    url,
    workerPid,
    async stop() {
      child.kill('SIGQUIT');
      if (child.exitCode === null) await once(child, 'exit');
      rmSync(prefix, { recursive: true, force: true });
    },
  };
}

