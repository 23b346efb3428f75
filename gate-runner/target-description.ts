import { readFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../hypervisor/paths.ts';
import { readAwsSection, type AwsSection } from './aws-section.ts';
import { readDeploySection, type DeploySection } from './deploy-section.ts';
import { DescriptionFields, isJsonObject, TargetDescriptionError } from './description-fields.ts';
import { readSecretRef, type SecretRef } from './secret-ref.ts';

/**
 * One named description of the deployment a gate run verifies: `targets/<name>.json`, chosen with
 * GATE_TARGET=<name>. `local` (the default) needs no file: everything is booted on this machine.
 * A description holds no secret; it names where each one comes from (secret-ref.ts). Each later
 * phase reads its own section: `github` (Phase 2), `host` (Phase 3 and 4), `aws` (Phase 4),
 * `thresholds` (Phase 5). The ledger's "same target" is the same name.
 */
export interface TargetDescription {
  name: string;
  /** The file it was read from, or undefined for the built-in `local`. */
  file: string | undefined;
  summary: string | undefined;
  /** A deployed hypervisor to verify; absent: the suites boot this checkout's hypervisor locally. */
  hypervisor: HypervisorSection | undefined;
  github: GitHubSection | undefined;
  /** Phase 4: what to provision on EC2 and Route 53 (aws-section.ts). */
  aws: AwsSection | undefined;
  /** Phase 4: how to reach the host over SSH and its health, for convergence (deploy-section.ts). */
  deploy: DeploySection | undefined;
  thresholds: Thresholds;
  /** Where the deployed hypervisor publishes its figures (Phase 5's runtime metrics snapshot). */
  cloudwatch: CloudWatchSection | undefined;
}

export interface CloudWatchSection {
  region: string;
  namespace: string;
  /** The Host dimension the hypervisor publishes under (HYPERVISOR_CLOUDWATCH_HOST). */
  host: string;
  /** A stand-in endpoint (moto); absent: AWS. Credentials come from the AWS SDK's usual chain. */
  endpoint: string | undefined;
}

export interface HypervisorSection {
  url: string;
  adminToken: SecretRef;
}

export interface GitHubSection {
  /** owner/name */
  repository: string;
  token: SecretRef;
  apiUrl: string;
  /** The workflow file whose runs prove Phase 2, under .github/workflows/. */
  workflow: string;
  branch: string;
}

/** Headroom a healthy host keeps, in percent free (Phase 5 checks them). */
export interface Thresholds {
  diskFreePercent: number;
  memoryFreePercent: number;
  /** The worst p99 latency of proxied requests (on-demand sandbox starts included) a healthy host shows over a run. */
  requestLatencyP99Ms: number;
}

export const localTargetName = 'local';
// requestLatencyP99Ms bounds proxied requests, on-demand sandbox starts included (seconds on a busy podman host).
export const defaultThresholds: Thresholds = { diskFreePercent: 20, memoryFreePercent: 25, requestLatencyP99Ms: 10000 };
export const targetsDir = path.join(repoRoot, 'targets');

const targetName = /^[a-z0-9][a-z0-9-]{0,62}$/;

export function targetFile(name: string, dir = targetsDir): string {
  return path.join(dir, `${name}.json`);
}

/** The description named by GATE_TARGET (default `local`), in GATE_TARGETS_DIR when set (a targets folder other than targets/, as the deploy and provisioning CLIs read it). */
export function targetDescriptionFromEnv(env: NodeJS.ProcessEnv = process.env, dir = env.GATE_TARGETS_DIR?.trim() || targetsDir): TargetDescription {
  const name = env.GATE_TARGET?.trim() || localTargetName;
  return loadTargetDescription(name, dir);
}

export function loadTargetDescription(name: string, dir = targetsDir): TargetDescription {
  const file = targetFile(name, dir);
  const shown = path.relative(process.cwd(), file) || file;
  if (!targetName.test(name)) {
    throw new TargetDescriptionError('GATE_TARGET', '', `is "${name}": a target name is lowercase letters, digits and dashes, naming targets/<name>.json.`);
  }
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' && name === localTargetName) {
      return { name, file: undefined, summary: 'this machine: everything booted locally', hypervisor: undefined, github: undefined, aws: undefined, deploy: undefined, thresholds: defaultThresholds, cloudwatch: undefined };
    }
    throw new TargetDescriptionError(shown, '', `cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)}): GATE_TARGET=${name} names it. Create it (see targets/README.md) or choose another target.`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new TargetDescriptionError(shown, '', `is not valid JSON (${(error as Error).message}).`);
  }
  if (!isJsonObject(json)) throw new TargetDescriptionError(shown, '', 'must hold one JSON object.');
  return parseTargetDescription(name, new DescriptionFields(shown, json));
}

export function parseTargetDescription(name: string, fields: DescriptionFields): TargetDescription {
  fields.onlyKeys(['$comment', 'summary', 'hypervisor', 'github', 'aws', 'deploy', 'thresholds', 'cloudwatch']);
  return {
    name,
    file: fields.file,
    summary: fields.optionalString('summary', 'one line saying what this target is'),
    hypervisor: readHypervisor(fields.section('hypervisor')),
    github: readGitHub(fields.section('github')),
    aws: readAwsSection(fields.section('aws')),
    deploy: readDeploySection(fields.section('deploy')),
    thresholds: readThresholds(fields.section('thresholds')),
    cloudwatch: readCloudWatch(fields.section('cloudwatch')),
  };
}

function readCloudWatch(fields: DescriptionFields | undefined): CloudWatchSection | undefined {
  if (!fields) return undefined;
  fields.onlyKeys(['region', 'namespace', 'host', 'endpoint']);
  return {
    region: fields.matching('region', /^[a-z]{2}(-[a-z]+)+-\d$/, 'an AWS region such as us-east-1'),
    namespace: fields.string('namespace', 'the CloudWatch namespace the hypervisor publishes to (HYPERVISOR_CLOUDWATCH_NAMESPACE)', 'ChoirOS/Hypervisor'),
    host: fields.string('host', "the Host dimension the hypervisor publishes under (HYPERVISOR_CLOUDWATCH_HOST, default its host name)"),
    endpoint: fields.has('endpoint') ? fields.url('endpoint', 'a CloudWatch endpoint stand-in such as http://127.0.0.1:5000') : undefined,
  };
}

function readHypervisor(fields: DescriptionFields | undefined): HypervisorSection | undefined {
  if (!fields) return undefined;
  fields.onlyKeys(['url', 'adminToken']);
  return { url: fields.url('url', "the deployed hypervisor's base URL, e.g. https://choiros.example.com"), adminToken: readSecretRef(fields, 'adminToken', 'GATE_ADMIN_TOKEN') };
}

function readGitHub(fields: DescriptionFields | undefined): GitHubSection | undefined {
  if (!fields) return undefined;
  fields.onlyKeys(['repository', 'token', 'apiUrl', 'workflow', 'branch']);
  return {
    repository: fields.matching('repository', /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/, 'a GitHub repository as owner/name'),
    token: readSecretRef(fields, 'token', 'GITHUB_TOKEN'),
    apiUrl: fields.has('apiUrl') ? fields.url('apiUrl', 'the GitHub REST API base URL') : 'https://api.github.com',
    workflow: fields.matching('workflow', /^[A-Za-z0-9_.-]+\.ya?ml$/, 'a workflow file name under .github/workflows/, e.g. flakes.yml', 'flakes.yml'),
    branch: fields.string('branch', 'the default branch whose runs prove the gate', 'main'),
  };
}

function readThresholds(fields: DescriptionFields | undefined): Thresholds {
  if (!fields) return defaultThresholds;
  fields.onlyKeys(['diskFreePercent', 'memoryFreePercent', 'requestLatencyP99Ms']);
  return {
    diskFreePercent: fields.integer('diskFreePercent', 1, 99, defaultThresholds.diskFreePercent),
    memoryFreePercent: fields.integer('memoryFreePercent', 1, 99, defaultThresholds.memoryFreePercent),
    requestLatencyP99Ms: fields.integer('requestLatencyP99Ms', 1, 600_000, defaultThresholds.requestLatencyP99Ms),
  };
}
