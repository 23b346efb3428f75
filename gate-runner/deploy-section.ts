import path from 'node:path';
import type { DescriptionFields } from './description-fields.ts';
import { readSecretRef, type SecretRef } from './secret-ref.ts';

/**
 * The `deploy` section of a target description: how convergence reaches the host (Phase 4). SSH is
 * key-only and the host key is pinned here (`hostKey`, one public key line) or in a known_hosts file
 * (`knownHostsFile`): a host presenting another key is refused, never auto-accepted. For a real EC2
 * host `ssh.host` is its DNS name; locally it maps the instance to a stand-in's loopback port.
 */
export interface DeploySection {
  ssh: SshEndpoint;
  /** The profile the generation is switched into on the host (NixOS: /nix/var/nix/profiles/system). */
  profile: string;
  /** Nix store on the host that `nix copy` fills (a URI for the remote's `remote-store`); undefined: the host's own. */
  remoteStore: string | undefined;
  /** Polled after activation until it answers 200 with status ok. */
  healthUrl: string;
  healthTimeoutSecs: number;
  routing: Routing;
  /** The hypervisor's admin token, installed on the host (0600) by each deploy; never in the store or a transcript. */
  adminToken: SecretRef;
}

/** Caddy in front of the hypervisor: TLS for `hostName` (ACME in production, its internal CA locally). */
export interface Routing {
  hostName: string;
  httpPort: number;
  httpsPort: number;
  /** Where Caddy listens: all addresses on a real host; 127.0.0.1 for a local stand-in. */
  bind: string | undefined;
  tls: 'acme' | 'internal';
  acmeEmail: string | undefined;
  /**
   * The hypervisor's own port, bound to 127.0.0.1 on the host: only Caddy reaches it. The one place
   * the description names it: provisioning reads it from here to keep it out of the security group.
   */
  hypervisorPort: number;
}

export const defaultHypervisorPort = 8080;
/** Ports the security group opens (SSH to the deployers, HTTP and HTTPS to everyone): never the hypervisor's. */
export const securityGroupPorts: readonly number[] = [22, 80, 443];

export interface SshEndpoint {
  host: string;
  port: number;
  user: string;
  /** The private key ssh uses (-i); its path only, it is never read here. */
  identityFile: string;
  /** A known_hosts file holding the host's pinned key (written from `hostKey` when that is given). */
  knownHostsFile: string | undefined;
  hostKey: string | undefined;
}

const hostKeyLine = /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp\d+) [A-Za-z0-9+/=]+$/;

function resolvePath(fields: DescriptionFields, value: string): string {
  const home = process.env.HOME ?? '';
  const expanded = value.startsWith('~/') ? path.join(home, value.slice(2)) : value;
  return path.resolve(path.dirname(fields.file), expanded);
}

export function readDeploySection(fields: DescriptionFields | undefined): DeploySection | undefined {
  if (!fields) return undefined;
  fields.onlyKeys(['ssh', 'profile', 'remoteStore', 'healthUrl', 'healthTimeoutSecs', 'routing', 'adminToken']);
  return {
    ssh: readSsh(fields),
    profile: fields.matching('profile', /^\/[^\0]+$/, 'an absolute profile path on the host', '/nix/var/nix/profiles/system'),
    remoteStore: fields.optionalString('remoteStore', 'the Nix store URI on the host, e.g. local?root=/srv/host'),
    healthUrl: fields.url('healthUrl', "the hypervisor's health URL as the host serves it, e.g. https://choiros.example.com/health"),
    healthTimeoutSecs: fields.integer('healthTimeoutSecs', 1, 900, 120),
    routing: readRouting(fields),
    adminToken: readSecretRef(fields, 'adminToken', 'GATE_ADMIN_TOKEN'),
  };
}

function readRouting(parent: DescriptionFields): Routing {
  const fields = parent.section('routing');
  if (!fields) throw parent.error('routing', 'is missing: set at least {"hostName": "choiros.example.com", "acmeEmail": "ops@example.com"}.');
  fields.onlyKeys(['hostName', 'httpPort', 'httpsPort', 'bind', 'tls', 'acmeEmail', 'hypervisorPort']);
  const tls = fields.matching('tls', /^(acme|internal)$/, 'acme (a public certificate, production) or internal (Caddy\'s own CA, local stand-ins)', 'acme') as Routing['tls'];
  const acmeEmail = fields.optionalString('acmeEmail', 'the address ACME registers the certificate with');
  if (tls === 'acme' && !acmeEmail) throw fields.error('acmeEmail', 'is missing: ACME certificates need a contact address (or set tls to internal for a local stand-in).');
  const httpPort = fields.integer('httpPort', 1, 65535, 80);
  const httpsPort = fields.integer('httpsPort', 1, 65535, 443);
  const hypervisorPort = fields.integer('hypervisorPort', 1, 65535, defaultHypervisorPort);
  if (hypervisorPort === httpPort || hypervisorPort === httpsPort) throw fields.error('hypervisorPort', `is ${hypervisorPort}, the port Caddy serves ${hypervisorPort === httpPort ? 'HTTP' : 'HTTPS'} on: give the hypervisor a port of its own (default ${defaultHypervisorPort}).`);
  if (securityGroupPorts.includes(hypervisorPort)) throw fields.error('hypervisorPort', `is ${hypervisorPort}, which the security group opens (${securityGroupPorts.join(', ')}): the hypervisor's port is never public; use another (default ${defaultHypervisorPort}).`);
  return {
    hostName: fields.matching('hostName', /^[a-z0-9.-]+$/, 'the DNS name the host serves, e.g. choiros.example.com'),
    httpPort,
    httpsPort,
    bind: fields.optionalString('bind', 'the address Caddy listens on (127.0.0.1 for a local stand-in)'),
    tls,
    acmeEmail,
    hypervisorPort,
  };
}

function readSsh(parent: DescriptionFields): SshEndpoint {
  const fields = parent.section('ssh');
  if (!fields) throw parent.error('ssh', 'is missing: set {"host", "port", "user", "identityFile", and "hostKey" or "knownHostsFile"}.');
  fields.onlyKeys(['host', 'port', 'user', 'identityFile', 'knownHostsFile', 'hostKey']);
  const hostKey = fields.has('hostKey') ? fields.matching('hostKey', hostKeyLine, 'the host\'s public key as "TYPE BASE64" (from ssh-keyscan, checked out of band)') : undefined;
  const knownHostsFile = fields.has('knownHostsFile') ? resolvePath(fields, fields.string('knownHostsFile', 'a known_hosts file holding the host\'s key')) : undefined;
  if ((hostKey === undefined) === (knownHostsFile === undefined)) throw fields.error('hostKey', 'or knownHostsFile: set exactly one, so the host key is pinned (it is never accepted on first sight).');
  return {
    host: fields.matching('host', /^[A-Za-z0-9.:-]+$/, 'the host name or address SSH connects to'),
    port: fields.integer('port', 1, 65535, 22),
    user: fields.matching('user', /^[a-z_][a-z0-9_-]*$/, 'the login user (root on NixOS, for switching the system profile)', 'root'),
    identityFile: resolvePath(fields, fields.string('identityFile', 'the private key file ssh uses (its path; it is never read here)')),
    knownHostsFile,
    hostKey,
  };
}
