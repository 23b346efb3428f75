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
