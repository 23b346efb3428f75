import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluateModule, ModuleEvalError } from './module-eval.ts';
import { hypervisorFlake, nixpkgsLibExpression } from './nixpkgs-lib.ts';

/** hypervisor/flake.nix with its nixpkgs input pointed at `url`: the shipped flake, fed from elsewhere. */
async function hypervisorFlakeFrom(url: string, dir: string): Promise<string> {
  const text = await readFile(hypervisorFlake, 'utf8');
  const { stdout } = await execa('nix-instantiate', ['--eval', '--json', '--expr', `(import ${JSON.stringify(hypervisorFlake)}).inputs.nixpkgs.url`]);
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, 'flake.nix');
  await writeFile(file, text.replace(JSON.stringify(JSON.parse(stdout) as string), JSON.stringify(url)));
  return file;
}

describe("nixpkgs' lib for the module, without a snapshot beside the checkout", () => {
  let scratch: string;
  let noSnapshot: string;
  beforeAll(async () => {
    scratch = await mkdtemp(path.join(tmpdir(), 'choiros-nixpkgs-lib-'));
    noSnapshot = path.join(scratch, 'no-shared-beside', 'main');
  });
  afterAll(async () => {
    await rm(scratch, { recursive: true, force: true });
  });

  it("is the hypervisor flake's nixpkgs input, fetched as that input, without copying the checkout into the store", async () => {
    const fallback = nixpkgsLibExpression({}, noSnapshot);
    expect(fallback.fromFlakeInput).toBe(true);
    expect(fallback.expression).not.toMatch(/getFlake|path:/);
    expect(fallback.source).toBe(`the nixpkgs input of ${hypervisorFlake}`);
    const { stdout } = await execa('nix-instantiate', ['--eval', '--json', '--expr', `(import ${JSON.stringify(hypervisorFlake)}).inputs.nixpkgs.url`]);
    const [, ref] = /^github:NixOS\/nixpkgs\/(.+)$/.exec(JSON.parse(stdout) as string) ?? [];
    expect(ref).toBeTruthy();
    // The input it would fetch, shown by a fetch that refuses: the same owner, repository and branch.
    const libNix = path.join(import.meta.dirname, 'local', 'nixpkgs-lib.nix');
    const shown = await execa('nix-instantiate', ['--eval', '--expr', `import ${JSON.stringify(libNix)} { flake = ${JSON.stringify(hypervisorFlake)}; fetch = input: throw "would fetch \${builtins.toJSON input}"; }`], { reject: false });
    expect(shown.stderr).toContain(`would fetch ${JSON.stringify({ owner: 'NixOS', ref, repo: 'nixpkgs', type: 'github' })}`);
  });

  it('evaluates the module for real through that input (the snapshot standing in for the fetched nixpkgs)', async () => {
    const snapshot = nixpkgsLibExpression();
    expect(snapshot.fromFlakeInput, 'this test feeds the input from the nixpkgs.lib snapshot (../shared/nixpkgs-lib or NIXPKGS_LIB)').toBe(false);
    const flake = await hypervisorFlakeFrom(`path:${snapshot.source}`, path.join(scratch, 'from-snapshot'));
    const evaluation = await evaluateModule({ port: 9191 }, undefined, nixpkgsLibExpression({}, noSnapshot, flake));
    expect(evaluation.failed).toEqual([]);
    expect(evaluation.service.environment.HYPERVISOR_PORT).toBe('9191');
  });

  it('that cannot be fetched fails with the way to evaluate offline', async () => {
    // Port 1 on loopback refuses: a real download failure, the same everywhere.
    const flake = await hypervisorFlakeFrom('http://127.0.0.1:1/nixpkgs.tar.gz', path.join(scratch, 'unreachable'));
    const error = await evaluateModule({}, undefined, nixpkgsLibExpression({}, noSnapshot, flake)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModuleEvalError);
    expect((error as Error).message).toMatch(/unable to download 'http:\/\/127\.0\.0\.1:1\/nixpkgs\.tar\.gz'/);
    expect((error as Error).message).toMatch(/could not be fetched: offline, put a snapshot of nixpkgs\.lib \(nix-community\/nixpkgs\.lib\) at \.\.\/shared\/nixpkgs-lib beside the checkout, or set NIXPKGS_LIB/);
  });
});
