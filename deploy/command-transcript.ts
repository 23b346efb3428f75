import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * The deployment command transcript: every command a deploy ran, its exit status, duration and
 * output, in order. Secrets the deploy handles (an admin token sent on stdin) are replaced with
 * [REDACTED] wherever they would appear, before anything is kept or printed.
 */
export interface TranscribedCommand {
  at: string;
  /** What the step is for, in the deploy's words ("copy the closure"). */
  step: string;
  command: string;
  exitCode: number;
  ms: number;
  output: string;
}

export const redactedMark = '[REDACTED]';

export class CommandTranscript {
  readonly commands: TranscribedCommand[] = [];
  readonly notes: string[] = [];
  readonly #secrets = new Set<string>();
  readonly #print: (line: string) => void;

  constructor(print: (line: string) => void = () => undefined) {
    this.#print = print;
  }

  /** Values never written to the transcript (they become [REDACTED]). */
  redact(secret: string): void {
    if (secret.trim().length >= 4) this.#secrets.add(secret.trim());
  }

  #clean(text: string): string {
    let out = text;
    for (const secret of this.#secrets) out = out.split(secret).join(redactedMark);
    return out;
  }

  add(entry: Omit<TranscribedCommand, 'at'>): TranscribedCommand {
    const kept = { at: new Date().toISOString(), ...entry, command: this.#clean(entry.command), output: this.#clean(entry.output), ms: Math.round(entry.ms) };
    this.commands.push(kept);
    this.#print(`[${kept.step}] $ ${kept.command}  (exit ${kept.exitCode}, ${kept.ms} ms)`);
    return kept;
  }

  /** A line that is the deploy's own conclusion, not a command ("no change: generation 3 is active"). */
  note(line: string): void {
    const kept = this.#clean(line);
    this.notes.push(kept);
    this.commands.push({ at: new Date().toISOString(), step: 'deploy', command: `# ${kept}`, exitCode: 0, ms: 0, output: '' });
    this.#print(`# ${kept}`);
  }

  text(): string {
    return `${this.commands
      .map((c) => (c.command.startsWith('# ') ? `${c.at} ${c.command}` : `${c.at} [${c.step}] $ ${c.command}\n  exit ${c.exitCode} in ${c.ms} ms${c.output.trim() ? `\n${c.output.trimEnd().split('\n').map((l) => `  | ${l}`).join('\n')}` : ''}`))
      .join('\n')}\n`;
  }

  async save(file: string): Promise<string> {
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, this.text());
    await writeFile(file.replace(/\.txt$/, '') + '.json', `${JSON.stringify(this.commands, null, 2)}\n`);
    return file;
  }
}
