// Builds the web console (ui/) into dist/ui: one bundled script (preact included), the page and
// its stylesheet, and the licence of the bundled library. Run by `npm run build`.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = path.join(root, 'dist', 'ui');
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
await build({
  entryPoints: [path.join(root, 'ui', 'src', 'main.tsx')],
  outfile: path.join(out, 'app.js'),
  bundle: true,
  format: 'esm',
  target: ['chrome109', 'firefox115', 'safari16'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  minify: true,
  legalComments: 'none',
  logLevel: 'warning',
});
copyFileSync(path.join(root, 'ui', 'index.html'), path.join(out, 'index.html'));
copyFileSync(path.join(root, 'ui', 'style.css'), path.join(out, 'style.css'));
copyFileSync(path.join(root, 'ui', 'favicon.svg'), path.join(out, 'favicon.svg'));
const preact = JSON.parse(readFileSync(path.join(root, 'node_modules', 'preact', 'package.json'), 'utf8'));
writeFileSync(
  path.join(out, 'licenses.txt'),
  `The web console bundles preact ${preact.version} (${preact.license}):\n\n${readFileSync(path.join(root, 'node_modules', 'preact', 'LICENSE'), 'utf8')}`,
);
