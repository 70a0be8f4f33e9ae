import js from '@eslint/js'
import tseslint from 'typescript-eslint'
import svelte from 'eslint-plugin-svelte'
import globals from 'globals'

// Layer rules here give fast feedback in the editor; scripts/check-layers.mjs is the build gate.
const plainNode = {
  paths: [
    { name: 'electron', message: 'main/engine, nat, cli, server, contract and store run in plain Node.' },
    { name: 'electron-store', message: 'Use the Store interface in main/store; the app injects electron-store.' }
  ],
  patterns: [{ group: ['**/app/*', '**/preload/*', '**/renderer/*'], message: 'Plain-Node layers cannot import the shell or UI.' }]
}

export default tseslint.config(
  { ignores: ['dist/', 'release/', 'node_modules/', '.tmp/', 'test-results/', 'renderer/dist/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  ...svelte.configs['flat/recommended'],
  {
    languageOptions: { globals: { ...globals.node }, ecmaVersion: 2023, sourceType: 'module' },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'off'
    }
  },
  {
    files: ['main/engine/**', 'main/nat/**', 'main/cli/**', 'main/server/**', 'main/contract/**', 'main/store/**', 'main/host/**'],
    rules: { 'no-restricted-imports': ['error', plainNode] }
  },
  {
    files: ['renderer/**/*.ts', 'renderer/**/*.svelte'],
    languageOptions: { globals: { ...globals.browser } },
    rules: {
      // Type-only imports pass here; scripts/check-layers.mjs narrows them to the contract file.
      '@typescript-eslint/no-restricted-imports': ['error', {
        patterns: [{ group: ['**/main/**'], allowTypeImports: true, message: 'The renderer imports only the contract, and only its types.' }],
        paths: [{ name: 'electron', message: 'The renderer is sandboxed; use the bridge.' }]
      }]
    }
  },
  {
    files: ['**/*.svelte', '**/*.svelte.ts'],
    languageOptions: { parserOptions: { parser: tseslint.parser, extraFileExtensions: ['.svelte'] } }
  }
)
