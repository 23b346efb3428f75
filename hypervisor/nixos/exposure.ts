import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';

/** The exposure the hypervisor's unit may have at most: systemd's "OK" band. */
export const maximumExposure = 3.0;

export interface ExposureReport {
  /** systemd-analyze's overall exposure, 0.0 (locked down) to 10.0 (unprotected). */
  exposure: number;
  /** Its verdict word: OK, MEDIUM, EXPOSED or UNSAFE. */
  rating: string;
  /** The full table systemd-analyze printed (evidence). */
  table: string;
}

/** Scores a unit file's text with `systemd-analyze security --offline=true`, as systemd itself would. */
export async function unitExposure(unitText: string, unitName = 'choiros-hypervisor.service'): Promise<ExposureReport> {
  const dir = await mkdtemp(path.join(tmpdir(), 'choiros-exposure-'));
  try {
    const file = path.join(dir, unitName);
    await writeFile(file, unitText);
    const result = await execa('systemd-analyze', ['security', '--offline=true', '--no-pager', file], { reject: false, env: { SYSTEMD_COLORS: '0' } });
    const match = /Overall exposure level for \S+: (\d+\.\d+) (\w+)/.exec(result.stdout);
    if (!match?.[1] || !match[2]) throw new Error(`systemd-analyze security printed no exposure for ${unitName} (exit ${result.exitCode}): ${result.stderr || result.stdout}`);
    return { exposure: Number(match[1]), rating: match[2], table: result.stdout };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * The items systemd-analyze security rates open (✗) for the hypervisor's unit on purpose, each with
 * why: everything else it rates is closed by a setting in module.nix. The overall bound alone lets a
 * single lost setting (ProtectSystem=full, PrivateTmp dropped) pass, as most weigh 0.1 to 0.5.
 */
export const acceptedOpenItems: Readonly<Record<string, string>> = {
  'RootDirectory=/RootImage=': 'the hypervisor runs its program from the Nix store in the host root; ProtectSystem=strict makes that root read-only',
  'PrivateMounts=': 'not set; ProtectSystem=strict, ProtectHome and PrivateTmp already give the unit its own read-only view of the file system',
  'MemoryDenyWriteExecute=': "Node's JIT compiler needs writable executable memory",
  'RestrictAddressFamilies=~AF_UNIX': "journald's stdout socket, and podman's API socket with runtime = \"podman\"",
  'RestrictAddressFamilies=~AF_(INET|INET6)': 'it serves HTTP and proxies to its sandboxes over TCP',
  'PrivateNetwork=': "it serves on the host's network",
  'PrivateUsers=': 'not set; the unit already runs as its own system user with no capabilities',
  'DeviceAllow=': 'char-rtc:r is what ProtectClock=yes itself allows (read the clock, never set it)',
  'IPAddressDeny=': 'it answers every client address: who may reach the port is the firewall\'s choice (openFirewall)',
};

/** Every item systemd-analyze rates in the report, open (✗) or closed (✓), by its NAME column. */
export function ratedItems(report: ExposureReport): string[] {
  return report.table.split('\n').flatMap((line) => {
    const match = /^\s*[✓✗]\s+(\S+)/.exec(line);
    return match?.[1] ? [match[1]] : [];
  });
}

/** The items systemd-analyze rates open (✗) in the report, by their NAME column. */
export function openItems(report: ExposureReport): string[] {
  return report.table.split('\n').flatMap((line) => {
    const match = /^\s*✗\s+(\S+)/.exec(line);
    return match?.[1] ? [match[1]] : [];
  });
}

/** Open items beyond acceptedOpenItems: a hardening setting of module.nix lost or weakened. */
export function unexpectedOpenItems(report: ExposureReport): string[] {
  return openItems(report).filter((item) => !Object.hasOwn(acceptedOpenItems, item));
}

export class ExposureTooHighError extends Error {
  constructor(report: ExposureReport) {
    super(`the hypervisor's unit scores ${report.exposure} ${report.rating} in systemd-analyze security, above ${maximumExposure}: restore the hardening in hypervisor/nixos/module.nix (the ✗ lines below say what is open)\n${report.table}`);
    this.name = 'ExposureTooHighError';
  }
}

/** Throws ExposureTooHighError unless the unit scores at most maximumExposure. */
export function requireHardened(report: ExposureReport): ExposureReport {
  if (report.exposure > maximumExposure) throw new ExposureTooHighError(report);
  return report;
}
