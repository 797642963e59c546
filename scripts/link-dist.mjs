// After `tsc -p tsconfig.build.json`: make `@conduit/<lib>` resolvable by plain Node in dist/.
// dist/node_modules/@conduit/<lib> -> ../../libs/<lib>/src, with a package.json there naming
// the entry points, so compiled apps need no loader, bundler or path rewriting.
import { existsSync, mkdirSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const dist = join(root, 'dist');
const scope = join(dist, 'node_modules', '@conduit');
mkdirSync(scope, { recursive: true });

for (const lib of readdirSync(join(root, 'libs'))) {
  const compiled = join(dist, 'libs', lib, 'src');
  if (!existsSync(join(compiled, 'index.js'))) throw new Error(`${compiled}/index.js missing: did tsc run?`);
  const exports = { '.': './index.js' };
  if (existsSync(join(compiled, 'testing', 'index.js'))) exports['./testing'] = './testing/index.js';
  writeFileSync(join(compiled, 'package.json'), JSON.stringify({ type: 'module', exports }, null, 2) + '\n');
  const link = join(scope, lib);
  rmSync(link, { force: true, recursive: true });
  symlinkSync(join('..', '..', 'libs', lib, 'src'), link, 'dir');
}
console.log(`linked ${readdirSync(scope).length} libs into dist/node_modules/@conduit`);
