import path from 'node:path';
import { execa } from 'execa';
import { explainLibFailure, nixpkgsLibExpression, offlineNixConfig, type NixpkgsLib } from './nixpkgs-lib.ts';

/** services.choiros-hypervisor's options as JSON (package aside): what a host configuration sets. */
export type ModuleSettings = Readonly<Record<string, unknown>>;

/** The module evaluated by lib.evalModules (hypervisor/nixos/local/evaluate.nix). */
export interface ModuleEvaluation {
  /** Messages of the assertions that failed; NixOS refuses to build the system when any did. */
  failed: string[];
  warnings: string[];
  options: Record<string, unknown>;
  /**
   * Every option services.choiros-hypervisor declares (nested ones by their path), with its
   * description, the text of the defaultText its documentation shows (null when none) and that
   * text's kind: its _type ("literalExpression": a Nix expression; "literalMD": Markdown), null for a
   * plain string.
   */
  optionDescriptions: { path: string[]; description: string; defaultText?: string | null; defaultTextType?: string | null }[];
  service: {
    description: string;
    wantedBy: string[];
    wants: string[];
    after: string[];
    requires: string[];
    environment: Record<string, string>;
    serviceConfig: Record<string, unknown>;
    unitConfig: Record<string, unknown>;
  };
  firewall: number[];
  podmanEnabled: boolean;
  /** [Socket] settings of podman.socket as the module sets them (SocketMode, SocketGroup), empty when it sets none. */
  podmanSocket: Record<string, string>;
  users: Record<string, { isSystemUser: boolean; group: string; home: string; extraGroups: string[] }>;
  unitText: string;
  sysusersText: string;
}

/** The module system refused a value: the message is Nix's, naming the option and the expected type. */
export class ModuleEvalError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModuleEvalError';
  }
}

export const nixosDir = path.dirname(new URL(import.meta.url).pathname);

/** Nix's own error, without the evaluation trace: the lines from the last "error:" on. */
export function nixErrorMessage(stderr: string): string {
  const lines = stderr.split('\n');
  const last = lines.map((l, i) => (/^\s*error:/.test(l) ? i : -1)).filter((i) => i >= 0).pop() ?? 0;
  return lines.slice(last).join('\n').trim();
}

/**
 * Evaluates a Nix `expression` (a function of the string `args`, passed with --argstr) to JSON with
 * the real nix-instantiate, offline (offlineNixConfig: nothing is fetched). When nix refuses, throws
 * what `failure` makes of nix's own error message, so each caller names what did not evaluate.
 */
export async function evalNixJson(expression: string, args: Readonly<Record<string, string>>, failure: (nixError: string) => Error): Promise<unknown> {
  const argstrs = Object.entries(args).flatMap(([name, value]) => ['--argstr', name, value]);
  const result = await execa('nix-instantiate', ['--eval', '--strict', '--json', '--expr', expression, ...argstrs], { reject: false, env: { NIX_CONFIG: offlineNixConfig } });
  if (result.exitCode !== 0) throw failure(nixErrorMessage(result.stderr));
  return JSON.parse(result.stdout) as unknown;
}

/**
 * Evaluates services.choiros-hypervisor with `settings` (enable = true implied) for real, with
 * nixpkgs' lib; `packagePath` is the hypervisor package's store path (a stand-in path otherwise).
 */
export async function evaluateModule(settings: ModuleSettings, packagePath?: string, lib: NixpkgsLib = nixpkgsLibExpression()): Promise<ModuleEvaluation> {
  const expression = `{ settingsJSON }: import ${JSON.stringify(path.join(nixosDir, 'local', 'evaluate.nix'))} {
    lib = ${lib.expression};${packagePath ? `
    package = builtins.storePath ${JSON.stringify(packagePath)};` : ''}
    configuration = { services.choiros-hypervisor = builtins.fromJSON settingsJSON // { enable = true; }; };
  }`;
  return (await evalNixJson(expression, { settingsJSON: JSON.stringify(settings) }, (error) => new ModuleEvalError(explainLibFailure(error, lib)))) as ModuleEvaluation;
}
