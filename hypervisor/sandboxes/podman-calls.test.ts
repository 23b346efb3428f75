import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../log.ts';
import { PodmanError } from '../podman/podman.ts';
import { PodmanExitWatch } from './podman-exits.ts';
import { containerPort, PodmanRuntime, podmanRunArgs } from './podman-runtime.ts';

const dirs: string[] = [];
const closers: (() => unknown)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const silent = createLogger('podman-calls-test', { write: () => undefined });

/**
 * A shell script stands in for the podman binary: it records each call's arguments, one line per
 * call, and answers by its first argument as `answers` says (a shell `case` body).
 */
function fakePodman(answers: string): { binary: string; calls: () => string[] } {
  const dir = mkdtempSync(path.join(tmpdir(), 'choiros-fake-podman-'));
  dirs.push(dir);
  const binary = path.join(dir, 'podman');
  const log = path.join(dir, 'calls');
  writeFileSync(binary, `#!/bin/sh\necho "$*" >> '${log}'\ncase "$1 $2" in\n${answers}\nesac\n`);
  chmodSync(binary, 0o755);
  return { binary, calls: () => readFileSync(log, 'utf8').trimEnd().split('\n') };
}

function podmanRuntime(binary: string, instanceId = 'hv-1'): PodmanRuntime {
  const runtime = new PodmanRuntime({ binary, instanceId, stopTimeoutSecs: 7, log: silent });
  closers.push(() => runtime.close());
  return runtime;
}

describe('podman run for a sandbox', () => {
  it('publishes the sandbox on the host loopback only, never pulls, gives no proxy, no capability and no privilege gain, and ends with the image', () => {
    const args = podmanRunArgs({
      name: 'choiros-sandbox-alice-live',
      image: 'localhost/choir-sandbox:1.0.0',
      labels: { 'choiros.instance': 'hv-1', 'choiros.user': 'alice' },
      hostPort: 41234,
      dataDir: '/srv/sandboxes/alice/live',
      env: { PORT: '8080', CHOIR_SANDBOX_ROLE: 'live' },
      stopTimeoutSecs: 7,
    });
    const valueOf = (flag: string): string[] => args.flatMap((arg, i) => (arg === flag ? [args[i + 1] ?? ''] : []));
    expect(args.slice(0, 2)).toEqual(['run', '--detach']);
    expect(valueOf('--publish')).toEqual([`127.0.0.1:41234:${containerPort}`]);
    expect(containerPort).toBe(8080);
    expect(valueOf('--name')).toEqual(['choiros-sandbox-alice-live']);
    expect(valueOf('--label')).toEqual(['choiros.instance=hv-1', 'choiros.user=alice']);
    expect(valueOf('--volume')).toEqual(['/srv/sandboxes/alice/live:/data']);
    expect(valueOf('--env')).toEqual(['PORT=8080', 'CHOIR_SANDBOX_ROLE=live']);
    expect(valueOf('--stop-timeout')).toEqual(['7']);
    expect(args).toEqual(expect.arrayContaining(['--pull=never', '--network=slirp4netns', '--http-proxy=false', '--init', '--cap-drop=all', '--security-opt=no-new-privileges']));
    expect(args.at(-1)).toBe('localhost/choir-sandbox:1.0.0');
  });
});

describe("the podman runtime's reading of podman", () => {
  it("finds only this instance's containers, with a valid user and role; running only when podman says running", async () => {
    const entries = [
      { Id: 'c-live', State: 'running', Image: 'img:ps', Labels: { 'choiros.user': 'alice', 'choiros.role': 'live', 'choiros.image': 'img:1' } },
      { Id: 'c-dev', State: 'exited', Image: 'img:ps', Labels: { 'choiros.user': 'alice', 'choiros.role': 'dev' } },
      { Id: 'c-created', State: 'created', Labels: { 'choiros.user': 'bob', 'choiros.role': 'live' } },
      { Id: 'c-bad-user', State: 'running', Labels: { 'choiros.user': '../etc', 'choiros.role': 'live' } },
      { Id: 'c-bad-role', State: 'running', Labels: { 'choiros.user': 'carol', 'choiros.role': 'prod' } },
      { Id: 'c-no-labels', State: 'running', Labels: null },
    ];
    const fake = fakePodman(`'ps --all') echo '${JSON.stringify(entries)}' ;;`);
    const found = await podmanRuntime(fake.binary, 'hv-1').find();
    expect(found).toEqual([
      { key: { userId: 'alice', role: 'live' }, running: true, containerId: 'c-live', pid: null, pidStart: null, image: 'img:1' },
      { key: { userId: 'alice', role: 'dev' }, running: false, containerId: 'c-dev', pid: null, pidStart: null, image: 'img:ps' },
      { key: { userId: 'bob', role: 'live' }, running: false, containerId: 'c-created', pid: null, pidStart: null, image: null },
    ]);
    expect(fake.calls()).toEqual(['ps --all --format json --filter label=choiros.instance=hv-1']);
  });

  it('finds nothing when podman lists nothing', async () => {
    expect(await podmanRuntime(fakePodman(`'ps --all') ;;`).binary).find()).toEqual([]);
  });

  it('takes a stop of a container that is already gone as done, and reports any other failure', async () => {
    const gone = fakePodman(`'stop --time') echo 'Error: no such container c-1' >&2; exit 125 ;;`);
    const instance = { runtime: 'podman' as const, containerId: 'c-1', pid: null, pidStart: null, exited: Promise.resolve('') };
    await podmanRuntime(gone.binary).stop(instance, 3);
    expect(gone.calls()).toEqual(['stop --time 3 c-1']);
    const broken = fakePodman(`'stop --time') echo 'Error: OCI runtime error' >&2; exit 126 ;;`);
    await expect(podmanRuntime(broken.binary).stop(instance, 3)).rejects.toThrow(PodmanError);
  });

  it("replaces its own leftover container under the sandbox's name, and never anyone else's", async () => {
    const dataRoot = mkdtempSync(path.join(tmpdir(), 'choiros-fake-podman-data-'));
    dirs.push(dataRoot);
    const request = { key: { userId: 'alice', role: 'live' as const }, spec: { runtime: 'podman' as const, image: 'img:1' }, hostPort: 41000, dataDir: path.join(dataRoot, 'alice', 'live'), previousContainerId: null };
    const answers = (owner: string): string => `'image inspect') echo '' ;;
'container inspect') echo '${owner}' ;;
'rm --force') ;;
'run --detach') if [ -e "$(dirname "$0")/cleared" ]; then echo c-new; else echo 'Error: the container name "choiros-sandbox-alice-live" is already in use' >&2; exit 125; fi ;;`;
    const ours = fakePodman(answers('hv-1').replace("'rm --force') ;;", `'rm --force') touch "$(dirname "$0")/cleared" ;;`));
    const launched = await podmanRuntime(ours.binary, 'hv-1').launch(request);
    expect(launched.containerId).toBe('c-new');
    expect(ours.calls().map((call) => call.split(' ').slice(0, 3).join(' '))).toEqual(['image inspect --format', 'run --detach --pull=never', 'container inspect --format', 'rm --force choiros-sandbox-alice-live', 'run --detach --pull=never']);

    const theirs = fakePodman(answers('hv-other'));
    await expect(podmanRuntime(theirs.binary, 'hv-1').launch(request)).rejects.toThrow(
      "the container name choiros-sandbox-alice-live is taken by a container that is not this hypervisor's (choiros.instance=hv-other)",
    );
    expect(theirs.calls().filter((call) => call.startsWith('rm '))).toEqual([]);
  });
});

describe('podman exit watching', () => {
  it('settles a container only on its own "died" event, with its exit code, and remembers a death nobody asked about yet', async () => {
    const events = [
      { ID: 'c-b', Status: 'start' },
      { ID: 'c-a', Status: 'died', ContainerExitCode: 137 },
      { ID: 'c-b', Status: 'died', ContainerExitCode: 2 },
    ];
    const fake = fakePodman(`'events --format') ${events.map((event) => `echo '${JSON.stringify(event)}'`).join('; ')}; exec sleep 600 ;;
'container inspect') echo 'true 0' ;;`);
    const watch = new PodmanExitWatch({ binary: fake.binary, instanceId: 'hv-1', log: silent });
    closers.push(() => watch.close());
    const b = watch.exitOf('c-b');
    watch.start();
    expect(await b).toBe('exit code 2');
    expect(await watch.exitOf('c-a')).toBe('exit code 137');
    expect(fake.calls()[0]).toBe('events --format json --filter label=choiros.instance=hv-1 --filter event=died');
  });
});

describe('the log tail of a podman sandbox', () => {
  it("asks podman for only the last lines of the sandbox's container, by name when no instance runs, stdout and stderr both", async () => {
    const podman = fakePodman(`logs*) echo 'listening'; echo 'Error: boom' >&2 ;;`);
    const tail = await podmanRuntime(podman.binary).logTail({ userId: 'alice', role: 'live' }, undefined, 2);
    expect(podman.calls()).toContain('logs --tail 2 choiros-sandbox-alice-live');
    expect(tail.split('\n').sort()).toEqual(['Error: boom', 'listening']);
  });
});
