import { fromRoot } from '../hypervisor/paths.ts';
import { readPublicKey } from '../gate-runner/aws-section.ts';
import { defaultHypervisorPort } from '../gate-runner/deploy-section.ts';
import { targetDescriptionFromEnv, targetsDir } from '../gate-runner/target-description.ts';
import { awsClients } from './aws-clients.ts';
import type { ProvisioningContext } from './change.ts';
import { apply, destroy, plan, type ConfirmPlan } from './provision.ts';
import { ProvisioningTranscript } from './transcript.ts';

export const provisioningCommands = ['plan', 'apply', 'destroy'] as const;
export type ProvisioningCommand = (typeof provisioningCommands)[number];

/** A failed run, with the transcript that says what exists now and how to remove it. */
export class ProvisioningFailedError extends Error {
  readonly transcript: ProvisioningTranscript;
  readonly transcriptFile: string;
  constructor(cause: Error, transcript: ProvisioningTranscript, transcriptFile: string) {
    super(`${cause.message}\ntranscript (what exists now, and the command that removes it): ${transcriptFile}`, { cause });
    this.name = 'ProvisioningFailedError';
    this.transcript = transcript;
    this.transcriptFile = transcriptFile;
  }
}

/**
 * `plan` changes nothing; `apply` shows the plan and applies it; `destroy` removes every resource
 * tagged for the target (GATE_TARGETS_DIR: a targets folder other than targets/). Every run keeps its transcript under reports/provisioning/<target>/
 * (PROVISIONING_TRANSCRIPT_DIR elsewhere), failed runs included.
 */
export async function runProvisioning(
  command: ProvisioningCommand,
  options: { env?: NodeJS.ProcessEnv; targetsDirectory?: string; print?: (line: string) => void; confirm?: ConfirmPlan } = {},
): Promise<{ transcript: ProvisioningTranscript; transcriptFile: string }> {
  const env = options.env ?? process.env;
  const description = targetDescriptionFromEnv(env, options.targetsDirectory ?? env.GATE_TARGETS_DIR ?? targetsDir);
  const file = description.file ?? `targets/${description.name}.json`;
  if (!description.aws) throw new Error(`${file} has no "aws" section: Phase 4 provisioning needs one (see targets/README.md); GATE_TARGET names the target (now "${description.name}").`);
  const ctx: ProvisioningContext = {
    aws: description.aws,
    hypervisorPort: description.deploy?.routing.hypervisorPort ?? defaultHypervisorPort,
    descriptionFile: file,
    publicKey: readPublicKey(description.aws.keyPair, file),
    ...awsClients(description.aws),
  };
  const transcript = new ProvisioningTranscript(description.name, command, options.print);
  const dir = env.PROVISIONING_TRANSCRIPT_DIR ?? fromRoot('reports', 'provisioning', description.name);
  let failure: Error | undefined;
  try {
    if (command === 'plan') await plan(ctx, transcript);
    else if (command === 'apply') await apply(ctx, transcript, description.name, options.confirm);
    else await destroy(ctx, transcript, description.name);
  } catch (error) {
    failure = error as Error;
    transcript.failure ??= failure.message;
  } finally {
    ctx.ec2.destroy();
    ctx.route53.destroy();
  }
  const transcriptFile = await transcript.save(dir);
  if (failure) throw new ProvisioningFailedError(failure, transcript, transcriptFile);
  return { transcript, transcriptFile };
}
