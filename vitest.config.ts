import { readdirSync, existsSync } from 'node:fs';
import { resolve } from 'node:path';
import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';

// `@conduit/<lib>` (and `@conduit/<lib>/testing`) resolve to the lib sources, as tsconfig paths do.
const libsDir = resolve(import.meta.dirname, 'libs');
const alias = readdirSync(libsDir).flatMap((lib) => {
  const entries = [
    { find: new RegExp(`^@conduit/${lib}$`), replacement: resolve(libsDir, lib, 'src/index.ts') },
  ];
  const testing = resolve(libsDir, lib, 'src/testing/index.ts');
  if (existsSync(testing))
    entries.push({ find: new RegExp(`^@conduit/${lib}/testing$`), replacement: testing });
  return entries;
});

const swcPlugin = swc.vite({
  module: { type: 'es6' },
  jsc: {
    target: 'es2022',
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true },
    keepClassNames: true,
  },
});

export default defineConfig({
  resolve: { alias },
  plugins: [swcPlugin],
  test: {
    projects: [
      {
        test: { name: 'unit', include: ['{apps,libs,bench}/**/*.spec.ts'], environment: 'node' },
      },
      {
        test: {
          name: 'int',
          include: ['{apps,libs}/**/*.int-spec.ts'],
          environment: 'node',
          globalSetup: ['./e2e/src/support/global-setup.ts'],
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['e2e/**/*.e2e-spec.ts'],
          environment: 'node',
          globalSetup: ['./e2e/src/support/global-setup.ts'],
          testTimeout: 180_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
