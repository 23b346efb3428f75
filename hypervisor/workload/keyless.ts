/**
 * Keyless mode (ADR-0003): a managed sandbox is untrusted compute, so it must never hold a
 * provider key or another platform secret. Names only are reported, never values.
 */
const providerKeyNames = new Set([
  'OPENAI_API_KEY',
  'ANTHROPIC_API_KEY',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_ACCESS_KEY_ID',
  'AWS_SESSION_TOKEN',
  'GEMINI_API_KEY',
  'GOOGLE_API_KEY',
  'MISTRAL_API_KEY',
  'GROQ_API_KEY',
  'XAI_API_KEY',
  'AZURE_OPENAI_API_KEY',
  'OPENROUTER_API_KEY',
  'HF_TOKEN',
  'HYPERVISOR_ADMIN_TOKEN',
]);

/** Any *_API_KEY or *_SECRET_ACCESS_KEY is treated as a provider credential too. */
const providerKeyPattern = /(^|_)(API_KEY|SECRET_ACCESS_KEY)$/;

/** Managed mode: the hypervisor started this sandbox (it always sets CHOIR_SANDBOX_* variables). */
export function isManaged(env: NodeJS.ProcessEnv): boolean {
  return Object.keys(env).some((name) => name.startsWith('CHOIR_SANDBOX_'));
}

/** The provider key names present in `env`, sorted. */
export function providerKeysIn(env: NodeJS.ProcessEnv): string[] {
  return Object.keys(env)
    .filter((name) => env[name] !== undefined && (providerKeyNames.has(name) || providerKeyPattern.test(name)))
    .sort();
}

export class KeylessViolationError extends Error {
  readonly variables: readonly string[];
  constructor(variables: readonly string[]) {
    super(
      `refusing to start: managed sandboxes run keyless, but the environment holds provider key(s) or platform secret(s): ${variables.join(', ')}. ` +
        'Remove them from the sandbox environment; they live only in the hypervisor.',
    );
    this.name = 'KeylessViolationError';
    this.variables = variables;
  }
}

/** Throws KeylessViolationError when a managed sandbox would start with a provider key. */
export function assertKeyless(env: NodeJS.ProcessEnv): void {
  if (!isManaged(env)) return;
  const found = providerKeysIn(env);
  if (found.length) throw new KeylessViolationError(found);
}
