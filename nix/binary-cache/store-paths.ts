import { execa } from 'execa';
import { runNix } from '../nix-cli.ts';
import { buildArgs, type BuildOptions, type FlakeOutput } from '../build.ts';

/** The derivations of the given outputs, in the same order (evaluates the flakes once, builds nothing). */
export async function derivationsOf(outputs: readonly FlakeOutput[], options: BuildOptions = {}): Promise<string[]> {
  const flakeRefs: string[] = [];
  let shared: string[] = [];
  for (const output of outputs) {
    const { args, flakeRef } = await buildArgs(output, options);
    flakeRefs.push(flakeRef);
    shared = args.filter((a, i) => !['build', '--json', '--no-link'].includes(a) && a !== flakeRef && args[i - 1] !== undefined);
  }
  const result = await runNix(['path-info', '--derivation', ...shared, ...flakeRefs]);
  if (result.exitCode !== 0) throw new Error(`evaluating the ${outputs.join(', ')} flakes failed: ${result.stderr.trim().split('\n').slice(-6).join('\n')}`);
  const drvs = result.stdout.split('\n').map((l) => l.trim()).filter((l) => l.endsWith('.drv'));
  if (drvs.length !== outputs.length) throw new Error(`nix path-info --derivation printed ${drvs.length} derivations for ${outputs.length} flakes: ${result.stdout}`);
  return drvs;
}

const ours = /^\/nix\/store\/[0-9a-z]{32}-choiros-/;

/**
 * Every store path building these outputs produces, and nothing else: the derivations' build-time
 * closures with their outputs (fetched files, Node, dependencies, packages) and the derivations,
 * plus older builds of ours (`choiros-*`) that still refer to them and would keep them alive.
 * Sources the evaluation adds (no deriver) are left: every evaluation adds them again, a cache
 * never serves them, and a concurrent evaluation of the same flake holds them.
 */
export async function ourStorePaths(outputs: readonly FlakeOutput[], options: BuildOptions = {}): Promise<string[]> {
  const drvs = await derivationsOf(outputs, options);
  const closure = await execa('nix-store', ['--query', '--requisites', '--include-outputs', ...drvs]);
  const paths = new Set(closure.stdout.split('\n').map((p) => p.trim()).filter(Boolean));
  const referrers = await execa('nix-store', ['--query', '--referrers-closure', ...paths], { reject: false });
  for (const p of String(referrers.stdout).split('\n').map((l) => l.trim())) if (ours.test(p)) paths.add(p);
  const info = await runNix(['path-info', '--json', ...paths]);
  if (info.exitCode !== 0) throw new Error(`nix path-info --json failed: ${info.stderr.trim()}`);
  const sources = new Set((JSON.parse(info.stdout) as { path: string; deriver?: string }[]).filter((p) => !p.deriver && !p.path.endsWith('.drv')).map((p) => p.path));
  return [...paths].filter((p) => !sources.has(p)).sort();
}

/** The runtime closure of a built store path (what a cache must hold to substitute it). */
export async function runtimeClosure(storePath: string): Promise<string[]> {
  const result = await runNix(['path-info', '--recursive', storePath]);
  if (result.exitCode !== 0) throw new Error(`nix path-info --recursive ${storePath} failed: ${result.stderr.trim()}`);
  return result.stdout.split('\n').map((p) => p.trim()).filter(Boolean);
}

export interface DeleteResult {
  deleted: string[];
  /** Paths another process still uses (a running program, a concurrent build): left in place, named. */
  alive: string[];
}

async function validPaths(paths: readonly string[]): Promise<string[]> {
  if (paths.length === 0) return [];
  const invalid = await execa('nix-store', ['--check-validity', '--print-invalid', ...paths], { reject: false });
  const gone = new Set(String(invalid.stdout).split('\n').map((l) => l.trim()));
  return paths.filter((p) => !gone.has(p));
}

/** `nix store delete` of exactly these paths (never a garbage collection); live ones are left and named. */
export async function deleteFromStore(paths: readonly string[]): Promise<DeleteResult> {
  let pending = await validPaths(paths);
  const present = [...pending];
  const alive: string[] = [];
  for (let attempt = 0; attempt < 50 && pending.length > 0; attempt += 1) {
    const result = await runNix(['store', 'delete', ...pending]);
    if (result.exitCode === 0) break;
    const live = /[Cc]annot delete path '([^']+)' since it is still alive/.exec(result.stderr);
    if (!live?.[1]) throw new Error(`nix store delete failed: ${result.stderr.trim()}`);
    alive.push(live[1]);
    // What the live path refers to stays alive with it.
    const kept = await execa('nix-store', ['--query', '--requisites', live[1]], { reject: false });
    const keep = new Set(String(kept.stdout).split('\n').map((l) => l.trim()));
    pending = await validPaths(pending.filter((p) => !keep.has(p)));
  }
  const remaining = new Set(await validPaths(present));
  return { deleted: present.filter((p) => !remaining.has(p)), alive };
}
