import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { DescriptionFields } from './description-fields.ts';

/**
 * The `aws` section of a target description: what Phase 4 provisions on EC2 and Route 53. Credentials
 * never appear here: the SDK's default chain (environment, shared config, SSO, instance role)
 * supplies them. `endpoint` points the clients at a stand-in speaking the same protocol (moto) for
 * local runs; a real account leaves it out.
 */
export interface AwsSection {
  region: string;
  endpoint: string | undefined;
  /** Names every resource and is the value of the `choiros:target` tag that finds them again. */
  name: string;
  instanceType: string;
  ami: string;
  rootVolume: RootVolume;
  /** Where SSH may come from; 80 and 443 are open to all; the hypervisor's port (deploy.routing.hypervisorPort) to none. */
  sshCidrs: readonly string[];
  keyPair: KeyPairSpec;
  tags: Readonly<Record<string, string>>;
  dns: DnsSpec;
}

export interface RootVolume {
  sizeGiB: number;
  iops: number;
}

export interface KeyPairSpec {
  name: string;
  /** The OpenSSH public key file (never the private key); relative to the description's folder. */
  publicKeyFile: string;
}

export interface DnsSpec {
  hostName: string;
  hostedZone: string;
}

const worldCidrs = ['0.0.0.0/0', '::/0'];
const cidr = /^(\d{1,3}\.){3}\d{1,3}\/\d{1,2}$|^[0-9a-fA-F:]+\/\d{1,3}$/;
const dnsName = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}\.?$/;

export function readAwsSection(fields: DescriptionFields | undefined): AwsSection | undefined {
  if (!fields) return undefined;
  if (fields.has('hypervisorPort')) {
    throw fields.error('hypervisorPort', "is no longer read: the hypervisor's port is set once, as deploy.routing.hypervisorPort (where Caddy proxies to; the security group keeps that port closed). Move the value there and delete aws.hypervisorPort.");
  }
  fields.onlyKeys(['region', 'endpoint', 'name', 'instanceType', 'ami', 'rootVolume', 'sshCidrs', 'keyPair', 'tags', 'dns']);
  const sshCidrs = fields.strings('sshCidrs', 'CIDR blocks SSH may come from, e.g. ["203.0.113.7/32"]');
  for (const block of sshCidrs) {
    if (!cidr.test(block)) throw fields.error('sshCidrs', `holds "${block}", which is not a CIDR block (e.g. 203.0.113.7/32).`);
    if (worldCidrs.includes(block)) throw fields.error('sshCidrs', `holds "${block}": SSH is never open to the whole internet. List the addresses you deploy from.`);
  }
  if (sshCidrs.length === 0) throw fields.error('sshCidrs', 'is empty: list the CIDR blocks you deploy from, or nobody can converge the host.');
  return {
    region: fields.matching('region', /^[a-z]{2}(-[a-z]+)+-\d$/, 'an AWS region such as us-east-1'),
    endpoint: fields.has('endpoint') ? fields.url('endpoint', 'the AWS endpoint to use instead of the real one (a local stand-in such as moto)') : undefined,
    name: fields.matching('name', /^[a-z0-9][a-z0-9-]{0,40}$/, 'a short lowercase name for the host\'s resources, e.g. choiros-prod'),
    instanceType: fields.matching('instanceType', /^[a-z0-9]+\.[a-z0-9]+$/, 'an EC2 instance type such as t3a.large', 't3a.large'),
    ami: fields.matching('ami', /^ami-[0-9a-f]{8,17}$/, 'an AMI id such as ami-0123456789abcdef0 (a NixOS image for the region)'),
    rootVolume: readRootVolume(fields.section('rootVolume')),
    sshCidrs,
    keyPair: readKeyPair(fields),
    tags: readTags(fields),
    dns: readDns(fields),
  };
}

function readRootVolume(fields: DescriptionFields | undefined): RootVolume {
  if (!fields) return { sizeGiB: 50, iops: 3000 };
  fields.onlyKeys(['sizeGiB', 'iops']);
  // gp3: 1 GiB to 16 TiB, 3000 to 16000 IOPS.
  return { sizeGiB: fields.integer('sizeGiB', 8, 16384, 50), iops: fields.integer('iops', 3000, 16000, 3000) };
}

function readKeyPair(parent: DescriptionFields): KeyPairSpec {
  const fields = parent.section('keyPair');
  if (!fields) throw parent.error('keyPair', 'is missing: set {"name": "...", "publicKeyFile": "PATH"} (the OpenSSH public key deploys use).');
  fields.onlyKeys(['name', 'publicKeyFile']);
  const file = fields.string('publicKeyFile', 'the path of an OpenSSH public key (.pub)');
  const home = process.env.HOME ?? '';
  const expanded = file.startsWith('~/') ? path.join(home, file.slice(2)) : file;
  return { name: fields.matching('name', /^[A-Za-z0-9._-]{1,255}$/, 'an EC2 key pair name'), publicKeyFile: path.resolve(path.dirname(fields.file), expanded) };
}

function readTags(parent: DescriptionFields): Readonly<Record<string, string>> {
  const fields = parent.section('tags');
  if (!fields) return {};
  const tags: Record<string, string> = {};
  const raw = parent.raw('tags') as Record<string, unknown>;
  for (const key of Object.keys(raw)) {
    if (key.startsWith('aws:') || key.startsWith('choiros:')) throw fields.error(key, 'is reserved (aws: and choiros: tags are set by AWS and by provisioning).');
    tags[key] = fields.string(key, 'a tag value');
  }
  return tags;
}

function readDns(parent: DescriptionFields): DnsSpec {
  const fields = parent.section('dns');
  if (!fields) throw parent.error('dns', 'is missing: set {"hostName": "choiros.example.com", "hostedZone": "example.com"}.');
  fields.onlyKeys(['hostName', 'hostedZone']);
  const hostName = fields.matching('hostName', dnsName, 'a DNS name such as choiros.example.com').replace(/\.$/, '').toLowerCase();
  const hostedZone = fields.matching('hostedZone', dnsName, 'the Route 53 hosted zone\'s name, such as example.com').replace(/\.$/, '').toLowerCase();
  if (hostName !== hostedZone && !hostName.endsWith(`.${hostedZone}`)) throw fields.error('hostName', `is "${hostName}", which is not inside the hosted zone "${hostedZone}".`);
  return { hostName, hostedZone };
}

/** The public key's text; an error naming the field and file when it cannot be read. */
export function readPublicKey(spec: KeyPairSpec, descriptionFile: string): string {
  let text: string;
  try {
    text = readFileSync(spec.publicKeyFile, 'utf8').trim();
  } catch (error) {
    throw new Error(`${descriptionFile}: aws.keyPair.publicKeyFile names ${spec.publicKeyFile}, which cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)}): create the key (ssh-keygen -t ed25519 -f PATH) or point the field at its .pub file.`, { cause: error });
  }
  if (!/^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp\d+) [A-Za-z0-9+/=]+( .*)?$/.test(text)) {
    throw new Error(`${descriptionFile}: aws.keyPair.publicKeyFile names ${spec.publicKeyFile}, which is not an OpenSSH public key (it must be the .pub file, never the private key).`);
  }
  return text;
}
