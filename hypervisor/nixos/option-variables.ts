import type { ModuleEvaluation, ModuleSettings } from './module-eval.ts';

/**
 * One option of services.choiros-hypervisor and the environment variable it sets, read from the
 * option's own description: "(SANDBOX_STOP_TIMEOUT_SECS)", or "(HYPERVISOR_DATABASE_URL=sqlite:PATH)"
 * when the value is wrapped. The module's descriptions are the one place the table is written
 * (module.nix: every option maps to one variable the hypervisor reads).
 */
export interface OptionVariable {
  /** The option's path under services.choiros-hypervisor, dotted (webauthn.rpId). */
  option: string;
  variable: string;
  /** How the value appears in the variable, its placeholder the last upper-case word (sqlite:PATH); none: the value itself. */
  template: string | undefined;
}

const namedVariable = /\(([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)(?:=([^)]*))?\)/;

export function optionVariables(evaluation: Pick<ModuleEvaluation, 'optionDescriptions'>): OptionVariable[] {
  return evaluation.optionDescriptions.flatMap(({ path, description }) => {
    const match = namedVariable.exec(description);
    return match?.[1] ? [{ option: path.join('.'), variable: match[1], template: match[2] }] : [];
  });
}

/** The value `option` has in `settings` (a nested attribute set, as a host configuration writes it). */
export function settingOf(settings: ModuleSettings, option: string): unknown {
  let value: unknown = settings;
  for (const key of option.split('.')) value = typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;
  return value;
}

/** What the variable must hold when its option is `value` (Nix's toString of a string or an integer). */
export function variableValue(entry: OptionVariable, value: unknown): string {
  const text = typeof value === 'string' || typeof value === 'number' ? String(value) : JSON.stringify(value);
  return entry.template === undefined ? text : entry.template.replace(/[A-Z]+$/, text);
}
