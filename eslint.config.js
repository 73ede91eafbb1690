// Lint rules for the whole tree: the recommended JS and typescript-eslint sets, on sources only.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'demo-data/', '.tap/', 'agent/drizzle/', 'fleet/drizzle/', 'provisioning/drizzle/', 'test-artifacts/', 'image/.cache/', 'image/out/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'off',
    },
  },
);
