import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { sandboxImage } from '../../hypervisor/workload/image/image.ts';
import { packageVersion } from '../../hypervisor/version.ts';
import { contractEnvNames } from '../../hypervisor/sandboxes/env.ts';
import { fromRoot, repoRoot } from '../../hypervisor/paths.ts';
import { roles } from '../../hypervisor/domain/role.ts';
import { test, expect } from '../../fixtures/gate-test.ts';
import { freeLoopbackPort } from '../../fixtures/fresh-image-store.ts';
import type { ContainerInspect } from '../../fixtures/podman-view.ts';
import { secretsByName } from '../../fixtures/local-hypervisor.ts';
import { whenLogged } from '../../fixtures/hypervisor-log.ts';
import { environOfTree, leakedSecrets } from '../../fixtures/sandbox-processes.ts';
import { settled } from '../../fixtures/refused-swap.ts';
import { configuredSandboxes } from '../../fixtures/configured-sandboxes.ts';
import { AdminCallError } from '../../hypervisor/admin-client/admin-call-error.ts';
import { refusedStart } from '../../fixtures/refused-start.ts';
import { databaseFileModes, ownerOnly } from '../../fixtures/database-file-modes.ts';

// What podman itself adds to every container's environment.
const podmanAddedEnv = ['container', 'HOSTNAME', 'HOME', 'TERM'];
const secretLikeName = /(API_KEY|TOKEN|SECRET|PASSWORD|^AWS_|^HYPERVISOR_|^GITHUB_|^WEBAUTHN_)/;
// The workload's run list without `limit`, as its README documents it (read from the document, not the code).
const runListDefault = 50;

const envOf = (inspected: ContainerInspect): Map<string, string> =>
  new Map(inspected.Config.Env.map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]));

test('Add/verify sandbox OCI image build path.', async ({ freshImageStore: store, evidence, request }) => {
  await test.step('the fresh image store lacks the sandbox image', async () => {
    const images = await store.podman(['images', '--format', '{{.Repository}}:{{.Tag}}']);
    await evidence.command('1-images-before-build', store.commandLine(['images']), images || '(no images)');
    expect(images.trim()).toBe('');
  });

  await test.step('npm run image builds it into that store, offline, from this checkout', async () => {
    const build = await evidence.timed('image build', () =>
      execa(process.execPath, [fromRoot('hypervisor', 'workload', 'image', 'build.ts')], { cwd: repoRoot, env: { ...process.env, ...store.env }, reject: false, all: true }),
    );
    await evidence.command('2-image-build', `CONTAINERS_STORAGE_CONF=${store.env.CONTAINERS_STORAGE_CONF} npm run image`, String(build.all));
    expect(build.exitCode, String(build.all)).toBe(0);
    expect(String(build.stdout).trim()).toBe(sandboxImage);
  });

  await test.step('the image has the tags, user, entrypoint, port and labels of the sandbox contract', async () => {
    const [image] = JSON.parse(await store.podman(['image', 'inspect', sandboxImage])) as {
      RepoTags: string[];
      Config: { User: string; Entrypoint: string[]; ExposedPorts: Record<string, unknown>; Labels: Record<string, string> };
    }[];
    await evidence.json('3-image-inspect', image);
    expect(image?.RepoTags).toEqual(expect.arrayContaining([sandboxImage, 'localhost/choir-sandbox:latest']));
    expect(image?.Config.User).toBe('1000:1000');
    expect(image?.Config.Entrypoint).toEqual(['/usr/local/bin/node', '/app/sandbox.mjs']);
    expect(Object.keys(image?.Config.ExposedPorts ?? {})).toEqual(['8080/tcp']);
    expect(image?.Config.Labels['org.opencontainers.image.version']).toBe(packageVersion);
  });

  await test.step('a container of the freshly built image answers /health as the contract says', async () => {
    const port = await freeLoopbackPort();
    const name = `choiros-gate-image-${port}`;
    await store.podman(['run', '--detach', '--pull=never', '--name', name, '--publish', `127.0.0.1:${port}:8080`, sandboxImage]);
    try {
      await expect.poll(async () => (await request.get(`http://127.0.0.1:${port}/health`).catch(() => undefined))?.status(), { timeout: 30_000 }).toBe(200);
      const health = await (await request.get(`http://127.0.0.1:${port}/health`)).json();
      await evidence.json('4-health-of-built-image', health);
      expect(health).toMatchObject({ status: 'healthy', service: 'choiros-sandbox', version: packageVersion });
    } finally {
      await store.podman(['rm', '--force', '--time', '1', name]);
    }
  });
});

test('Wire hypervisor local container runtime command path.', async ({ target, podman, evidence, userId, hypervisorLog }) => {
  const local = target.requireLocal('checking the runtime commands the hypervisor issues');
  const name = podman.containerName(userId, 'live');
  const commandsBefore = (await local.podmanRecorder.commands()).length;

  const started = await test.step('the admin API starts a live sandbox on the podman runtime', async () => {
    const answer = await target.admin.start(userId, 'live');
    expect(answer.status).toBe('running');
    return answer;
  });

  await test.step('the hypervisor ran the configured podman binary with the contract\'s run command', async () => {
    const issued = (await local.podmanRecorder.commands()).slice(commandsBefore);
    await evidence.text('1-podman-commands.txt', issued.map((args) => `podman ${args.join(' ')}`).join('\n'));
    const run = issued.find((args) => args[0] === 'run' && args.includes(name));
    expect(run, `no "podman run ... ${name}" among the commands the hypervisor issued`).toBeDefined();
    const args = run ?? [];
    expect(args).toEqual(expect.arrayContaining(['--detach', '--pull=never', '--name', name]));
    for (const label of ['choiros.managed=true', `choiros.user=${userId}`, 'choiros.role=live', `choiros.image=${local.image}`, `choiros.instance=${local.instanceId}`]) {
      expect(args[args.indexOf(label) - 1], `label ${label}`).toBe('--label');
    }
    expect(args[args.indexOf('--publish') + 1]).toBe(`127.0.0.1:${started.port}:8080`);
    expect(args[args.indexOf('--volume') + 1]).toBe(`${path.join(local.dataRoot, userId, 'live')}:/data`);
    expect(args.at(-1)).toBe(local.image);
  });

  const inspected = await test.step('podman runs that container, labelled and locked down as asked', async () => {
    const container = await podman.inspect(userId, 'live');
    await evidence.json('2-container-inspect', { Id: container.Id, Name: container.Name, ImageName: container.ImageName, Labels: container.Config.Labels, State: container.State, HostConfig: container.HostConfig });
    expect(container.State.Running).toBe(true);
    expect(container.ImageName).toBe(local.image);
    expect(container.Config.Labels).toMatchObject({ 'choiros.managed': 'true', 'choiros.user': userId, 'choiros.role': 'live', 'choiros.instance': local.instanceId });
    expect(container.HostConfig.SecurityOpt ?? []).toContain('no-new-privileges');
    expect(container.HostConfig.CapDrop?.length ?? 0).toBeGreaterThan(10);
    expect(container.HostConfig.NetworkMode, 'its network: a user-mode one of its own (slirp4netns), no bridge shared with other sandboxes or open to the host').toBe('slirp4netns');
    expect(container.HostConfig.Init, "podman's init as PID 1, so a SIGTERM ends the sandbox promptly").toBe(true);
    expect(container.Config.StopTimeout, "the container's stop timeout: the hypervisor's SANDBOX_STOP_TIMEOUT_SECS").toBe(configuredSandboxes(local.pid).stopTimeoutSecs);
    return container;
  });

  await test.step('the transition log names the podman runtime, the image and the container', async () => {
    const userEvents = async () => (await hypervisorLog.lines()).flatMap((l) => (l.entry && l.entry.user === userId ? [l.entry] : []));
    // The ready line can reach the log file just after the admin start has answered.
    const events = await whenLogged(userEvents, (read) => read.some((e) => e.event === 'sandbox.ready'));
    expect(events.find((e) => e.event === 'sandbox.start_requested')).toMatchObject({ runtime: 'podman', image: local.image, role: 'live' });
    expect(events.find((e) => e.event === 'sandbox.ready')).toMatchObject({ runtime: 'podman', container_id: inspected.Id, port: started.port });
  });

  await test.step('stopping goes through podman stop of that container', async () => {
    const before = (await local.podmanRecorder.commands()).length;
    await target.admin.stop(userId, 'live');
    const issued = (await local.podmanRecorder.commands()).slice(before);
    await evidence.text('3-podman-commands-on-stop.txt', issued.map((args) => `podman ${args.join(' ')}`).join('\n'));
    expect(issued.some((args) => args[0] === 'stop' && args.includes(inspected.Id))).toBe(true);
    const stop = issued.find((args) => args[0] === 'stop') ?? [];
    expect(stop[stop.indexOf('--time') + 1], "podman stop's grace period: the hypervisor's SANDBOX_STOP_TIMEOUT_SECS").toBe(String(configuredSandboxes(local.pid).stopTimeoutSecs));
    expect(await podman.running(userId, 'live')).toBeUndefined();
  });

  await test.step("a start on an image podman's store lacks is refused with 503, naming the image and how to build it, and runs nothing", async () => {
    const missing = 'localhost/choir-sandbox-missing:0.0.0';
    const user = `${userId}-noimage`;
    const refused = await settled(target.admin.start(user, 'live', { image: missing }));
    await evidence.json('4-start-on-a-missing-image', { image: missing, answer: refused instanceof Error ? refused.message : refused, sandbox: await target.admin.sandbox(user, 'live') });
    expect(refused, 'the start answer').toBeInstanceOf(AdminCallError);
    expect((refused as AdminCallError).status, (refused as Error).message).toBe(503);
    expect((refused as AdminCallError).message, 'the refusal names the image').toContain(missing);
    expect((refused as AdminCallError).message, 'the refusal says how to get the image').toContain('npm run image');
    expect(await target.admin.sandbox(user, 'live'), 'the sandbox after the refused start').toMatchObject({ status: 'failed', last_error: expect.stringContaining(missing) });
    expect(await podman.running(user, 'live'), 'podman runs a container for it').toBeUndefined();
  });

  await test.step('the hypervisor refuses to start on a bad setting with exit 2 and one line naming the variable and its value, and on a port already taken with exit 1 naming HYPERVISOR_HOST/HYPERVISOR_PORT; each logged', async () => {
    // Local only: it runs this checkout's hypervisor beside the target (on a deployed host systemd runs it).
    const started = { SANDBOX_CONTAINER_IMAGE: local.image, ...(process.env.CONTAINERS_CONF ? { CONTAINERS_CONF: process.env.CONTAINERS_CONF } : {}) };
    const badSetting = await refusedStart({ ...started, SANDBOX_RESTART_LIMIT: 'plenty' });
    const portTaken = await refusedStart({ ...started, HYPERVISOR_PORT: new URL(target.url).port });
    await evidence.json('5-refused-hypervisor-starts', { bad_setting: { SANDBOX_RESTART_LIMIT: 'plenty', ...badSetting }, port_taken: { HYPERVISOR_PORT: new URL(target.url).port, ...portTaken } });
    expect(badSetting, 'node hypervisor/main.ts with SANDBOX_RESTART_LIMIT=plenty').toMatchObject({ code: 2, stderr: [expect.stringMatching(/^hypervisor: invalid configuration: SANDBOX_RESTART_LIMIT="plenty" is invalid: /)] });
    expect(badSetting.events, 'what it logged').toContain('hypervisor.config_error');
    expect(portTaken, `node hypervisor/main.ts on the target's port ${new URL(target.url).port}`).toMatchObject({ code: 1, stderr: [expect.stringMatching(/^hypervisor: could not start: cannot listen on 127\.0\.0\.1:\d+ \(HYPERVISOR_HOST\/HYPERVISOR_PORT\)/)] });
    expect(portTaken.events, 'what it logged').toContain('hypervisor.start_failed');
  });
});

test('Validate env, volume mounts, and ports for live/dev roles.', async ({ target, podman, evidence, userId, request }) => {
  const local = target.requireLocal('inspecting the sandbox containers');
  const imageEnv = (await podman.imageEnv(local.image)).map((entry) => entry.slice(0, entry.indexOf('=')));
  const allowedNames = new Set<string>([...contractEnvNames, ...imageEnv, ...podmanAddedEnv]);
  const secrets = secretsByName(local.secrets);

  const ports = await test.step('the admin API starts both roles for one user', async () => {
    const live = await target.admin.start(userId, 'live');
    const dev = await target.admin.start(userId, 'dev');
    expect([live.status, dev.status]).toEqual(['running', 'running']);
    expect(live.port).not.toBe(dev.port);
    return { live: live.port, dev: dev.port };
  });

  const sources: string[] = [];
  for (const role of roles) {
    await test.step(`${role}: env is the allowlist with the contract's values and no platform secret`, async () => {
      const inspected = await podman.inspect(userId, role);
      await evidence.json(`${role}-container-inspect`, { Name: inspected.Name, Env: inspected.Config.Env, Mounts: inspected.Mounts, Ports: inspected.NetworkSettings.Ports, Labels: inspected.Config.Labels });
      const env = envOf(inspected);
      expect(Object.fromEntries(contractEnvNames.map((name) => [name, env.get(name)]))).toEqual({
        PORT: '8080',
        DATABASE_URL: 'sqlite:/data/sandbox.db',
        CHOIROS_DATA_DIR: '/data',
        CHOIR_SANDBOX_USER_ID: userId,
        CHOIR_SANDBOX_ROLE: role,
        CHOIR_SANDBOX_ID: `${userId}:${role}`,
      });
      expect([...env.keys()].filter((name) => !allowedNames.has(name)), 'variables outside the allowlist').toEqual([]);
      expect([...env.keys()].filter((name) => secretLikeName.test(name)), 'secret-like variable names').toEqual([]);
      const everything = JSON.stringify(inspected);
      expect(Object.entries(secrets).flatMap(([name, secret]) => (everything.includes(secret) ? [name] : [])), 'platform secret values found in the container').toEqual([]);
    });

    await test.step(`${role}: the real environment of every process in the container holds only allowed names and no platform secret`, async () => {
      const { State } = await podman.inspect(userId, role);
      const environs = environOfTree(State.Pid);
      await evidence.json(`${role}-process-environ`, environs.map((p) => ({ pid: p.pid, command: p.command, names: Object.keys(p.env).sort() })));
      expect(environs.some((p) => p.command.some((arg) => arg.endsWith('sandbox.mjs'))), 'the sandbox process itself is among them').toBe(true);
      for (const p of environs) expect(Object.keys(p.env).filter((name) => !allowedNames.has(name)), `variables outside the allowlist in pid ${p.pid} (${p.command.join(' ')})`).toEqual([]);
      expect(leakedSecrets(environs, secrets), 'platform secrets in the processes\' environment').toEqual([]);
    });

    await test.step(`${role}: /data is the user's own ${role} directory, and the sandbox writes there`, async () => {
      const inspected = await podman.inspect(userId, role);
      const expected = path.join(local.dataRoot, userId, role);
      expect(inspected.Mounts.map((m) => ({ source: m.Source, destination: m.Destination, rw: m.RW }))).toEqual([{ source: expected, destination: '/data', rw: true }]);
      sources.push(expected);
      await expect.poll(() => existsSync(path.join(expected, 'sandbox.db')), { timeout: 10_000 }).toBe(true);
    });

    await test.step(`${role}: the sandbox's database in that directory (sandbox.db, its -wal and -shm, as the host sees them) is readable by its owner only (0600)`, async () => {
      // The user's runs and documents; the sandbox writes it inside the container, onto the host's mount.
      const database = path.join(local.dataRoot, userId, role, 'sandbox.db');
      const modes = await databaseFileModes(database);
      await evidence.json(`${role}-database-modes`, modes);
      expect(modes, `modes of ${database} and its WAL companions`).toEqual(ownerOnly(database));
    });

    await test.step(`${role}: only 8080 is published, on 127.0.0.1, at the port the hypervisor reports`, async () => {
      const inspected = await podman.inspect(userId, role);
      expect(inspected.NetworkSettings.Ports).toEqual({ '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: String(ports[role]) }] });
      expect(await target.admin.sandbox(userId, role)).toMatchObject({ status: 'running', port: ports[role] });
      const health = await (await request.get(`http://127.0.0.1:${ports[role]}/health`)).json();
      expect(health).toMatchObject({ status: 'healthy', instance_role: role });
    });
  }

  await test.step("the hypervisor's own database (sessions, passkeys, recovery code hashes), with its -wal and -shm, is readable by its owner only (0600)", async () => {
    const modes = await databaseFileModes(local.databaseFile);
    await evidence.json('hypervisor-database-modes', modes);
    expect(modes, `modes of ${local.databaseFile} and its WAL companions`).toEqual(ownerOnly(local.databaseFile));
  });

  await test.step('live and dev never share a data directory', async () => {
    expect(new Set(sources).size).toBe(2);
    await evidence.json('summary', { user: userId, ports, dataDirs: sources, allowedEnv: [...allowedNames].sort() });
    await target.admin.stop(userId, 'live');
    await target.admin.stop(userId, 'dev');
  });
});

test('Capture one successful end-to-end user task.', async ({ target, page, desktop, signedInUser, evidence }) => {
  const objective = `Gate capture: summarise the Phase 1 smoke for ${signedInUser.username}`;

  const outcome = await test.step('the signed-in user runs a task on the live desktop', async () => {
    await desktop.open(`${target.url}/`);
    const result = await evidence.timed('task', () => desktop.runTask(objective));
    expect(result.status).toBe('completed');
    await evidence.screenshot(page, 'task-completed');
    return result;
  });

  const run = await test.step('through the proxy, the run is recorded as completed with a document', async () => {
    const response = await page.request.get(`${target.url}/conductor/runs/${outcome.runId}`);
    expect(response.status()).toBe(200);
    const record = (await response.json()) as { run_id: string; desktop_id: string; status: string; objective: string; document_path?: string };
    expect(record).toMatchObject({ run_id: outcome.runId, status: 'completed', objective });
    expect(record.document_path).toBeTruthy();
    await evidence.json('run', record);
    return record;
  });

  await test.step('the document is readable and matches its digest', async () => {
    const response = await page.request.get(`${target.url}/conductor/runs/${outcome.runId}/document`);
    expect(response.status()).toBe(200);
    const document = (await response.json()) as { path: string; sha256: string; content: string };
    expect(document.path).toBe(run.document_path);
    expect(document.sha256).toBe(createHash('sha256').update(document.content).digest('hex'));
    expect(outcome.result).toContain(document.path);
    expect(document.content, 'the document is the report on this objective').toContain(objective);
    await evidence.text('document.md', document.content, 'text/markdown');
  });

  // The workload's list promise (hypervisor/workload/README.md): newest first, so `limit` keeps the latest runs.
  await test.step('the run list answers newest first: a second run started through the API heads it, before this one, and limit=1 answers it alone', async () => {
    const started = await page.request.post(`${target.url}/conductor/execute`, { data: { objective: `${objective} (a second run)`, desktop_id: run.desktop_id }, headers: { origin: target.url } });
    expect(started.status(), 'POST /conductor/execute').toBe(202);
    const second = ((await started.json()) as { run_id: string }).run_id;
    const listed = async (query: string): Promise<string[]> => {
      const response = await page.request.get(`${target.url}/conductor/runs${query}`);
      expect(response.status(), `GET /conductor/runs${query}`).toBe(200);
      return ((await response.json()) as { runs: { run_id: string }[] }).runs.map((r) => r.run_id);
    };
    for (const query of ['', `?desktop_id=${encodeURIComponent(run.desktop_id)}`]) {
      const ids = await listed(query);
      await evidence.json(`run-list${query ? '-by-desktop' : ''}`, ids);
      expect(ids.indexOf(second), `GET /conductor/runs${query}: the second run, listed`).toBeGreaterThanOrEqual(0);
      expect(ids.indexOf(second), `GET /conductor/runs${query}: the second run before the first (${ids.join(', ')})`).toBeLessThan(ids.indexOf(outcome.runId));
    }
    expect(await listed('?limit=1'), 'GET /conductor/runs?limit=1: the newest run alone').toEqual([second]);
  });

  // The workload API's documented defaults and refusals (hypervisor/workload/README.md), read through the proxy.
  await test.step('the workload API keeps its documented defaults and refusals: a run started without output_mode is recorded markdown_report_to_writer, `auto` as auto; a bad objective or output_mode is refused 400 naming the field; a run list limit outside 1-200 is refused 400 naming limit, 200 answered; an unknown run is 404', async () => {
    const execute = (data: Record<string, unknown>) => page.request.post(`${target.url}/conductor/execute`, { data, headers: { origin: target.url } });
    const recorded = async (data: Record<string, unknown>): Promise<{ status: number; output_mode?: string }> => {
      const started = await execute(data);
      expect(started.status(), `POST /conductor/execute ${JSON.stringify(data)}`).toBe(202);
      const { run_id: id } = (await started.json()) as { run_id: string };
      return { status: started.status(), ...((await (await page.request.get(`${target.url}/conductor/runs/${id}`)).json()) as { output_mode?: string }) };
    };
    const refusal = async (response: Awaited<ReturnType<typeof execute>>) => ({ status: response.status(), body: (await response.json()) as unknown });
    const defaulted = await recorded({ objective: `${objective} (no output_mode)`, desktop_id: run.desktop_id });
    const auto = await recorded({ objective: `${objective} (output_mode auto)`, desktop_id: run.desktop_id, output_mode: 'auto' });
    const noObjective = await refusal(await execute({ objective: '  ', desktop_id: run.desktop_id }));
    const badMode = await refusal(await execute({ objective, desktop_id: run.desktop_id, output_mode: 'pdf' }));
    const list = async (query: string) => refusal(await page.request.get(`${target.url}/conductor/runs${query}`));
    const limits = { zero: await list('?limit=0'), over: await list('?limit=201'), max: await list('?limit=200') };
    const unknownRun = (await page.request.get(`${target.url}/conductor/runs/00000000-gate-no-such-run`)).status();
    await evidence.json('workload-api-defaults-and-refusals', { defaulted, auto, no_objective: noObjective, bad_output_mode: badMode, limits, unknown_run: unknownRun });
    expect(defaulted.output_mode, 'the run started without output_mode').toBe('markdown_report_to_writer');
    expect(auto.output_mode, 'the run started with output_mode auto').toBe('auto');
    expect(noObjective, 'POST /conductor/execute with a blank objective').toEqual({ status: 400, body: expect.objectContaining({ field: 'objective' }) });
    expect(badMode, 'POST /conductor/execute with output_mode "pdf"').toEqual({ status: 400, body: expect.objectContaining({ field: 'output_mode' }) });
    expect(limits.zero, 'GET /conductor/runs?limit=0').toEqual({ status: 400, body: expect.objectContaining({ field: 'limit' }) });
    expect(limits.over, 'GET /conductor/runs?limit=201').toEqual({ status: 400, body: expect.objectContaining({ field: 'limit' }) });
    expect(limits.max.status, 'GET /conductor/runs?limit=200').toBe(200);
    expect(unknownRun, 'GET /conductor/runs/ID of a run that does not exist').toBe(404);
  });

  // The list's default (hypervisor/workload/README.md): without `limit`, the newest runListDefault runs.
  await test.step(`the run list without limit answers the ${runListDefault} newest runs (the documented default): with more runs than that recorded, GET /conductor/runs equals the head of ?limit=200`, async () => {
    const listed = async (query: string): Promise<string[]> => {
      const response = await page.request.get(`${target.url}/conductor/runs${query}`);
      expect(response.status(), `GET /conductor/runs${query}`).toBe(200);
      return ((await response.json()) as { runs: { run_id: string }[] }).runs.map((r) => r.run_id);
    };
    for (let count = (await listed('?limit=200')).length; count <= runListDefault; count++) {
      const started = await page.request.post(`${target.url}/conductor/execute`, { data: { objective: `${objective} (run ${count + 1}, past the list's default)`, desktop_id: run.desktop_id }, headers: { origin: target.url } });
      expect(started.status(), 'POST /conductor/execute').toBe(202);
    }
    const all = await listed('?limit=200');
    const defaulted = await listed('');
    await evidence.json('run-list-default-limit', { recorded: all.length, listed_without_limit: defaulted.length, default: runListDefault });
    expect(all.length, `runs recorded (?limit=200), more than the default ${runListDefault}`).toBeGreaterThan(runListDefault);
    expect(defaulted, `GET /conductor/runs without limit: the ${runListDefault} newest of the ${all.length} runs`).toEqual(all.slice(0, runListDefault));
  });

  if (target.local) {
    const local = target.local;
    await test.step("the run and its document live in the user's live data directory on the host, the document as served", async () => {
      const liveDir = path.join(local.dataRoot, signedInUser.userId, 'live');
      expect(existsSync(path.join(liveDir, 'sandbox.db'))).toBe(true);
      const served = (await (await page.request.get(`${target.url}/conductor/runs/${outcome.runId}/document`)).json()) as { path: string; content: string };
      const onHost = path.join(liveDir, served.path);
      expect(existsSync(onHost), `${served.path} under the user's live data directory on the host (${onHost})`).toBe(true);
      expect(await readFile(onHost, 'utf8'), `${onHost} against the document served through the proxy`).toBe(served.content);
    });
  }
});
