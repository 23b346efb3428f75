/** A hypervisor CLI command (`npm run hypervisor -- NAME ARGS`): resolves to the process exit code. */
export interface Command {
  summary: string;
  run(args: readonly string[]): Promise<number>;
}
