import type { Command } from './command.ts';

/** Each command lives in its own file and is loaded only when used. */
const commands: Record<string, () => Promise<Command>> = {
  serve: async () => (await import('./serve.ts')).serve,
  swap: async () => (await import('./swap.ts')).swap,
  releases: async () => (await import('./releases.ts')).releases,
  deploy: async () => (await import('./deploy.ts')).deploy,
  promote: async () => (await import('./promote.ts')).promote,
  rollback: async () => (await import('./rollback.ts')).rollback,
  pointers: async () => (await import('./pointers.ts')).pointers,
};

/** The commands the CLI knows, in the order its usage lists them. */
export const commandNames: readonly string[] = Object.keys(commands);

async function usage(): Promise<string> {
  const lines = await Promise.all(Object.entries(commands).map(async ([name, load]) => `  ${name.padEnd(10)} ${(await load()).summary}`));
  return `usage: node hypervisor/main.ts [command] [args]   (npm run hypervisor -- [command] [args])\n\ncommands:\n${lines.join('\n')}\n\nWithout a command it serves. Configuration comes from the environment (see hypervisor/config.ts).`;
}

/** Runs the command named by the first argument (default: serve); resolves to the exit code. */
export async function runCli(args: readonly string[]): Promise<number> {
  const [name = 'serve', ...rest] = args;
  if (name === 'help' || name === '--help' || name === '-h') {
    console.log(await usage());
    return 0;
  }
  const load = commands[name];
  if (!load) {
    console.error(`hypervisor: unknown command ${JSON.stringify(name)}\n\n${await usage()}`);
    return 2;
  }
  return (await load()).run(rest);
}
