/**
 * The hypervisor package (a store path with bin/choiros-hypervisor) the local host runs.
 * CHOIROS_HYPERVISOR_PACKAGE names an already built one.
 */
export async function hypervisorPackage(env: NodeJS.ProcessEnv = process.env): Promise<{ outPath: string; command: string; log: string }> {
  const given = env.CHOIROS_HYPERVISOR_PACKAGE?.trim();
  if (given) return { outPath: given, command: `CHOIROS_HYPERVISOR_PACKAGE=${given}`, log: '' };
  throw new Error('no hypervisor package: set CHOIROS_HYPERVISOR_PACKAGE to a store path holding bin/choiros-hypervisor');
}
