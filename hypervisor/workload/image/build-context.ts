import { execa } from 'execa';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, cpSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { publicDir } from '../desktop.ts';
import { bundleSandbox } from './bundle.ts';
import { nodeBinary, sharedLibraries, type RuntimeFile } from './runtime-files.ts';

/** The image's unprivileged user. A host directory mounted at /data must be writable by it. */
export const sandboxUser = { uid: 1000, gid: 1000, name: 'sandbox' } as const;

/** The label that fingerprints what went into an image, so a stale image is rebuilt, a current one reused. */
export const digestLabel = 'org.choiros.sandbox.digest';

export interface ImageLabels {
  version: string;
  revision: string;
}

/** Everything an image is made of, gathered (and fingerprinted) before any file is copied. */
export interface ImageInputs {
  labels: ImageLabels;
  bundle: Uint8Array;
  node: string;
  libraries: RuntimeFile[];
  digest: string;
}

function containerfile(labels: ImageLabels): string {
  return `FROM scratch
COPY runtime/ /
COPY app/ /app/
COPY --chown=${sandboxUser.uid}:${sandboxUser.gid} data/ /data/
ENV PATH=/usr/local/bin PORT=8080 SANDBOX_HOST=0.0.0.0 CHOIROS_DATA_DIR=/data DATABASE_URL=sqlite:/data/sandbox.db NODE_ENV=production SANDBOX_VERSION=${labels.version}
EXPOSE 8080
USER ${sandboxUser.uid}:${sandboxUser.gid}
WORKDIR /data
LABEL org.opencontainers.image.title="choir-sandbox" org.opencontainers.image.version="${labels.version}" org.opencontainers.image.revision="${labels.revision}"
ENTRYPOINT ["/usr/local/bin/node", "/app/sandbox.mjs"]
`;
}

export async function gatherImageInputs(labels: ImageLabels): Promise<ImageInputs> {
  const node = nodeBinary();
  const [bundle, libraries] = await Promise.all([bundleSandbox(), sharedLibraries(node)]);
  const hash = createHash('sha256').update(containerfile(labels)).update(bundle);
  for (const name of readdirSync(publicDir).sort()) hash.update(name).update(readFileSync(path.join(publicDir, name)));
  // Binaries by identity (path, size, mtime): hashing 120 MB on every test run would cost more than it saves.
  for (const file of [{ imagePath: '/usr/local/bin/node', hostPath: node }, ...libraries]) {
    const stat = statSync(file.hostPath);
    hash.update(`${file.imagePath}=${file.hostPath}:${stat.size}:${stat.mtimeMs}\n`);
  }
  return { labels, bundle, node, libraries, digest: hash.digest('hex').slice(0, 32) };
}

/** Copies Node without its debug symbols when `strip` is there (about 18 MB less); as-is otherwise. */
async function copyNode(source: string, target: string): Promise<void> {
  const stripped = await execa('strip', ['--strip-all', '-o', target, source], { reject: false });
  if (stripped.failed) copyFileSync(source, target);
  chmodSync(target, 0o755);
}

/**
 * Lays out a FROM-scratch build context in `dir`: runtime/ (Node, the libraries it links, a minimal
 * /etc and /tmp), app/ (the bundled sandbox and its desktop page), an empty data/ for /data, and
 * the Containerfile. Runtime and app are separate layers, so a code change adds a small layer
 * and reuses the 110 MB runtime one.
 */
export async function writeBuildContext(dir: string, inputs: ImageInputs): Promise<void> {
  const runtime = path.join(dir, 'runtime');
  const app = path.join(dir, 'app');
  for (const sub of ['usr/local/bin', 'etc']) mkdirSync(path.join(runtime, sub), { recursive: true });
  mkdirSync(app, { recursive: true });
  mkdirSync(path.join(dir, 'data'), { recursive: true });
  const tmp = path.join(runtime, 'tmp');
  mkdirSync(tmp);
  chmodSync(tmp, 0o1777);

  await copyNode(inputs.node, path.join(runtime, 'usr', 'local', 'bin', 'node'));
  writeFileSync(path.join(app, 'sandbox.mjs'), inputs.bundle);
  cpSync(publicDir, path.join(app, 'public'), { recursive: true });
  for (const library of inputs.libraries) {
    const target = path.join(runtime, library.imagePath);
    mkdirSync(path.dirname(target), { recursive: true });
    copyFileSync(library.hostPath, target);
  }
  writeFileSync(path.join(runtime, 'etc', 'passwd'), `root:x:0:0:root:/:/sbin/nologin\n${sandboxUser.name}:x:${sandboxUser.uid}:${sandboxUser.gid}:ChoirOS sandbox:/data:/sbin/nologin\n`);
  writeFileSync(path.join(runtime, 'etc', 'group'), `root:x:0:\n${sandboxUser.name}:x:${sandboxUser.gid}:\n`);
  writeFileSync(path.join(dir, 'Containerfile'), `${containerfile(inputs.labels)}LABEL ${digestLabel}="${inputs.digest}"\n`);
}
