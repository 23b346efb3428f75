import { execa } from 'execa';

/** A tool the local host needs, the Debian package that has it, and why. */
interface Tool {
  command: string;
  aptPackage: string;
  why: string;
}

const tools: readonly Tool[] = [
  { command: 'debootstrap', aptPackage: 'debootstrap', why: 'builds the Debian root the host boots from' },
  { command: 'systemd-nspawn', aptPackage: 'systemd-container', why: 'boots that root with systemd as PID 1' },
  { command: 'nsenter', aptPackage: 'util-linux', why: 'runs commands inside the booted host' },
  { command: 'setpriv', aptPackage: 'util-linux', why: 'powers the host off when the process that booted it dies' },
  { command: 'ssh-keygen', aptPackage: 'openssh-client', why: "makes the host's SSH host key and the deploy key" },
];

export class MissingHostToolError extends Error {
  constructor(missing: readonly Tool[]) {
    const packages = [...new Set(missing.map((t) => t.aptPackage))].join(' ');
    super(
      `the local systemd host needs ${missing.map((t) => `${t.command} (${t.why})`).join(', ')}, missing on this machine: ` +
        `install with "apt-get install -y ${packages}" (bash scripts/setup.sh does it on Debian as root).`,
    );
    this.name = 'MissingHostToolError';
  }
}

async function onPath(command: string, searchPath: string | undefined): Promise<boolean> {
  const result = await execa('sh', ['-c', 'command -v "$1"', 'sh', command], { reject: false, env: searchPath === undefined ? {} : { PATH: searchPath } });
  return result.exitCode === 0;
}

/** Throws MissingHostToolError naming every missing tool and the apt line that installs them. */
export async function requireHostTools(searchPath: string | undefined = process.env.PATH): Promise<void> {
  const missing: Tool[] = [];
  for (const tool of tools) if (!(await onPath(tool.command, searchPath))) missing.push(tool);
  if (missing.length) throw new MissingHostToolError(missing);
}
