import { evaluateModule } from '../hypervisor/nixos/module-eval.ts';

/** services.choiros-hypervisor.cloudwatch as a host configuration sets it (enable = true implied). */
export interface CloudWatchPublishing {
  region: string;
  endpoint?: string;
  namespace?: string;
  host?: string;
  intervalSecs?: number;
  /** A path on the host, outside the Nix store: the AWS shared credentials file the unit loads as a systemd credential. */
  credentialsFile?: string;
}

/** What the cloudwatch option adds to the hypervisor's unit: variables, credentials to load, files the start asserts. */
export interface CloudWatchUnit {
  environment: Readonly<Record<string, string>>;
  loadCredential: readonly string[];
  assertPathExists: readonly string[];
}

const list = (value: unknown): string[] => (Array.isArray(value) ? value.map(String) : value === undefined ? [] : [String(value)]);

/**
 * The unit lines the NixOS module renders for `publishing`: the module evaluated with it and without
 * it, and what differs. So the Debian stand-in's generations publish exactly as a NixOS host with
 * the option would (the same variables, the same LoadCredential and %d path), not as a copy of it.
 */
export async function cloudwatchUnit(publishing: CloudWatchPublishing): Promise<CloudWatchUnit> {
  const [on, off] = await Promise.all([evaluateModule({ cloudwatch: { ...publishing, enable: true } }), evaluateModule({})]);
  if (on.failed.length) throw new Error(`services.choiros-hypervisor.cloudwatch = ${JSON.stringify(publishing)} fails the module's assertions:\n${on.failed.map((m) => `- ${m}`).join('\n')}`);
  const added = (now: string[], before: string[]) => now.filter((entry) => !before.includes(entry));
  return {
    environment: Object.fromEntries(Object.entries(on.service.environment).filter(([name, value]) => off.service.environment[name] !== value)),
    loadCredential: added(list(on.service.serviceConfig.LoadCredential), list(off.service.serviceConfig.LoadCredential)),
    assertPathExists: added(list(on.service.unitConfig.AssertPathExists), list(off.service.unitConfig.AssertPathExists)),
  };
}
