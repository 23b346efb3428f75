import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * What a provisioning run did, step by step, and what exists at its end: the record that makes a
 * partial failure recoverable (every resource that exists is listed with the command that removes
 * it). Printed as it happens and kept as JSON and text.
 */
export interface TranscriptEntry {
  at: string;
  step: string;
  outcome: 'ok' | 'failed' | 'unchanged';
  ms: number;
  detail: string;
}

export interface ExistingResource {
  kind: 'key pair' | 'security group' | 'instance' | 'volume' | 'dns record';
  id: string;
  detail: string;
  /** The AWS CLI command that removes this one resource by hand. */
  remove: string;
}

export class ProvisioningTranscript {
  readonly target: string;
  readonly command: string;
  readonly entries: TranscriptEntry[] = [];
  existing: ExistingResource[] = [];
  /** The command that removes everything listed in `existing`. */
  removeCommand = '';
  failure: string | undefined;
  readonly #print: (line: string) => void;

  constructor(target: string, command: string, print: (line: string) => void = (line) => console.log(line)) {
    this.target = target;
    this.command = command;
    this.#print = print;
  }

  /** Runs one step, recording its outcome and duration; a failure is recorded and rethrown. */
  async step<T>(step: string, work: () => Promise<{ value: T; detail: string; unchanged?: boolean }>): Promise<T> {
    const started = performance.now();
    try {
      const { value, detail, unchanged } = await work();
      this.#add({ step, outcome: unchanged ? 'unchanged' : 'ok', ms: performance.now() - started, detail });
      return value;
    } catch (error) {
      this.#add({ step, outcome: 'failed', ms: performance.now() - started, detail: (error as Error).message });
      throw error;
    }
  }

  note(step: string, detail: string): void {
    this.#add({ step, outcome: 'ok', ms: 0, detail });
  }

  #add(entry: Omit<TranscriptEntry, 'at'>): void {
    const full = { at: new Date().toISOString(), ...entry, ms: Math.round(entry.ms) };
    this.entries.push(full);
    this.#print(`${full.outcome.padEnd(9)} ${full.step} (${full.ms} ms): ${full.detail}`);
  }

  text(): string {
    const lines = [`# provisioning transcript: ${this.command} for target ${this.target}`, ''];
    for (const e of this.entries) lines.push(`${e.at} ${e.outcome.padEnd(9)} ${e.step} (${e.ms} ms): ${e.detail}`);
    if (this.failure) lines.push('', `FAILED: ${this.failure}`);
    lines.push('', 'exists now:');
    if (this.existing.length === 0) lines.push('  nothing tagged for this target');
    for (const r of this.existing) lines.push(`  ${r.kind} ${r.id}: ${r.detail}\n    by hand: ${r.remove}`);
    if (this.existing.length) lines.push('', `remove all of it with: ${this.removeCommand}`);
    return `${lines.join('\n')}\n`;
  }

  /** Writes transcript.json and transcript.txt under `dir`; returns the text file's path. */
  async save(dir: string): Promise<string> {
    await mkdir(dir, { recursive: true });
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const base = path.join(dir, `${stamp}-${this.command}`);
    await writeFile(`${base}.json`, `${JSON.stringify({ target: this.target, command: this.command, entries: this.entries, failure: this.failure, existing: this.existing, removeCommand: this.removeCommand }, null, 2)}\n`);
    await writeFile(`${base}.txt`, this.text());
    return `${base}.txt`;
  }
}
