import path from 'node:path';
import { buildArgs } from '../../nix/build.ts';
import { runNix } from '../../nix/nix-cli.ts';
import { nixErrorMessage, nixosDir, ModuleEvalError, type ModuleEvaluation, type ModuleSettings } from './module-eval.ts';
import { nixpkgsLibExpression } from './nixpkgs-lib.ts';

/**
 * hypervisor/flake.nix's own outputs, read with `nix eval` the way a NixOS configuration would
 * import them (with the offline package set standing in for nixpkgs where it cannot be had):
 * `nixosModules.default` evaluated with lib.evalModules, and the names of `nixosConfigurations`.
 */
export async function evaluateFlakeModule(settings: ModuleSettings): Promise<{ evaluation: ModuleEvaluation; command: string }> {
  const { args } = await buildArgs('hypervisor');
  const flakeRef = args[3];
  const overrides = args.slice(4);
  const apply = `module: import ${JSON.stringify(path.join(nixosDir, 'local', 'evaluate.nix'))} {
    lib = ${nixpkgsLibExpression().expression};
    inherit module;
    configuration = { services.choiros-hypervisor = builtins.fromJSON ${JSON.stringify(JSON.stringify(settings))} // { enable = true; }; };
  }`;
  const evalArgs = ['eval', '--json', '--impure', `${flakeRef}#nixosModules.default`, ...overrides, '--apply', apply];
  const result = await runNix(evalArgs);
  if (result.exitCode !== 0) throw new ModuleEvalError(nixErrorMessage(result.stderr));
  return { evaluation: JSON.parse(result.stdout) as ModuleEvaluation, command: `nix ${evalArgs.slice(0, 4).join(' ')} … --apply '<lib.evalModules of the module>'` };
}

export async function flakeNixosConfigurations(): Promise<string[]> {
  const { args } = await buildArgs('hypervisor');
  const result = await runNix(['eval', '--json', `${args[3]}#nixosConfigurations`, ...args.slice(4), '--apply', 'builtins.attrNames']);
  if (result.exitCode !== 0) throw new ModuleEvalError(nixErrorMessage(result.stderr));
  return JSON.parse(result.stdout) as string[];
}
