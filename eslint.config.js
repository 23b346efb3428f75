import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

export default tseslint.config(
  { ignores: ['node_modules/', 'reports/', 'test-results/', 'data/', '.podman/', 'result/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'off',
      // Playwright fixtures that need no other fixture are written `async ({}, use) => ...`.
      'no-empty-pattern': ['error', { allowObjectPatternsAsParameters: true }],
    },
  },
  {
    // Scripts that run inside a browser page served by the hypervisor or the sandbox.
    files: ['**/public/**/*.js', '**/public/**/*.ts'],
    languageOptions: { globals: { ...globals.browser } },
  },
);
