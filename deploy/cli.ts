import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { DeploySection } from '../gate-runner/deploy-section.ts';
import { targetDescriptionFromEnv, targetsDir } from '../gate-runner/target-description.ts';
import { fromRoot } from '../hypervisor/paths.ts';
import { buildFlakeOutput } from '../nix/build.ts';
import type { CloudWatchUnit } from './cloudwatch-unit.ts';
import { CommandTranscript } from './command-transcript.ts';
import { Converger, type ConvergeResult } from './converge.ts';
import { buildGeneration } from './generation.ts';
import { HostConnection } from './ssh.ts';

export const deployCommands = ['switch', 'rollback', 'status'] as const;
export type DeployCommand = (typeof deployCommands)[number];

export interface DeployRun {
  result: ConvergeResult | undefined;
  transcript: CommandTranscript;
  transcriptFile: string;
}

/** A failed deploy, with its transcript (kept either way). */
export class DeployFailedError extends Error {
  readonly transcript: CommandTranscript;
  readonly transcriptFile: string;
  constructor(cause: Error, transcript: CommandTranscript, transcriptFile: string) {
    super(`${cause.message}\ndeployment command transcript: ${transcriptFile}`, { cause });
    this.name = 'DeployFailedError';
    this.transcript = transcript;
    this.transcriptFile = transcriptFile;
  }
}

/**
 * The generation this checkout describes for the target: the hypervisor flake's package behind Caddy
 * (publishing to CloudWatch when `cloudwatch` is given: the module option's unit lines).
 */
export async function buildTargetGeneration(deploy: DeploySection, transcript: CommandTranscript, hypervisorEnv?: Readonly<Record<string, string>>, labelSuffix = 'custom', cloudwatch?: CloudWatchUnit): Promise<string> {
  if (!/^[a-z0-9-]+$/.test(labelSuffix)) throw new Error(`the generation label suffix "${labelSuffix}" must be lower-case letters, digits and -: it becomes part of a store path name and the unit's Description`);
  const started = performance.now();
  const hypervisor = await buildFlakeOutput('hypervisor');
  transcript.add({ step: 'build the hypervisor package', command: hypervisor.command.join(' '), exitCode: 0, ms: performance.now() - started, output: hypervisor.storePath });
  // A generation with settings of its own is labelled apart from this checkout's (`labelSuffix` tells several such apart).
  const label = `${path.basename(hypervisor.storePath).slice(0, 8)}${hypervisorEnv || cloudwatch ? `-${labelSuffix}` : ''}`;
  const builtAt = performance.now();
  const generation = await buildGeneration({ hypervisor: hypervisor.storePath, routing: deploy.routing, label, ...(hypervisorEnv ? { hypervisorEnv } : {}), ...(cloudwatch ? { cloudwatch } : {}) });
  transcript.add({ step: 'build the host generation', command: generation.command, exitCode: 0, ms: performance.now() - builtAt, output: generation.storePath });
  return generation.storePath;
}

/**
 * `switch` deploys a generation (the one this checkout builds, or `closure`) and waits for health,
 * rolling back on its own when it fails; `rollback` returns to the previous generation (or to an
 * existing generation `generation`, back or forward: how a rollback rehearsal leaves the host as it
 * found it); `status`
 * says what is active (GATE_TARGETS_DIR: a targets folder other than targets/). Each run keeps its deployment command transcript under reports/deploy/<target>/.
 */
export async function runDeploy(
  command: DeployCommand,
  options: { env?: NodeJS.ProcessEnv; targetsDirectory?: string; closure?: string; generation?: number; print?: (line: string) => void; transcriptDir?: string } = {},
): Promise<DeployRun> {
  const env = options.env ?? process.env;
  const description = targetDescriptionFromEnv(env, options.targetsDirectory ?? env.GATE_TARGETS_DIR ?? targetsDir);
  const file = description.file ?? `targets/${description.name}.json`;
  if (!description.deploy) throw new Error(`${file} has no "deploy" section: convergence needs the host's SSH endpoint, pinned host key and health URL (see targets/README.md).`);
  const transcript = new CommandTranscript(options.print);
  const scratch = await mkdtemp(path.join(tmpdir(), 'choiros-deploy-'));
  const dir = options.transcriptDir ?? env.DEPLOY_TRANSCRIPT_DIR ?? fromRoot('reports', 'deploy', description.name);
  const transcriptFile = path.join(dir, `${new Date().toISOString().replace(/[:.]/g, '-')}-${command}.txt`);
  let result: ConvergeResult | undefined;
  try {
    const host = await HostConnection.open(description.deploy.ssh, transcript, scratch);
    const converger = new Converger(host, description.deploy, transcript);
    if (command === 'switch') result = await converger.deploy(options.closure ?? (await buildTargetGeneration(description.deploy, transcript)));
    else if (command === 'rollback') result = await converger.rollback(options.generation);
    else transcript.note(`active: ${(await converger.activeGeneration()) ?? 'none'} (generation ${(await converger.generationNumber()) ?? 'none'})`);
  } catch (error) {
    transcript.note(`FAILED: ${(error as Error).message}`);
    await transcript.save(transcriptFile);
    throw new DeployFailedError(error as Error, transcript, transcriptFile);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  await transcript.save(transcriptFile);
  return { result, transcript, transcriptFile };
}
