// Bundles ctl (dist/bin/ctl.js and everything it imports) into dist/ctl/ with esbuild, one
// file per entry plus a lazily loaded chunk for the gRPC client: resolving and compiling one
// file instead of ~150 modules is most of ctl's cold start (issue 13). bin/ctl.js runs the
// bundle when it exists, else the unbundled dist/bin/ctl.js.
import { rmSync, writeFileSync } from 'node:fs';
import { build } from 'esbuild';

rmSync('dist/ctl', { recursive: true, force: true });

const result = await build({
  entryPoints: { ctl: 'dist/bin/ctl.js' },
  outdir: 'dist/ctl',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // CommonJS dependencies (grpc-js) call require() for node's built-ins.
  banner: { js: "import { createRequire as __ctlRequire } from 'node:module'; const require = __ctlRequire(import.meta.url);" },
  // Less to parse and compile at start.
  minify: true,
  logLevel: 'warning',
  // classic-level (snapshot restore) loads a native addon: keep it a real import.
  external: ['classic-level'],
  metafile: true,
});

// Which sources each output file holds (test/integration/ctl-lazy-load.test.ts maps the files a
// command loads back to the modules in them, to check which commands load protobufjs and grpc-js).
const inputs = Object.fromEntries(
  Object.entries(result.metafile.outputs).map(([out, o]) => [out.replace(/^dist\/ctl\//, ''), Object.keys(o.inputs).sort()]),
);
writeFileSync('dist/ctl/inputs.json', JSON.stringify(inputs, null, 1) + '\n');
