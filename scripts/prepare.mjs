// `npm install` runs `prepare`: it builds dist/ (the `pem` CLI) from src/ with the TypeScript
// compiler, a dev dependency, then precompiles the SQL templates into it (scripts/precompile-sql.mjs),
// as `npm run build` does. An install without dev dependencies has no compiler and no use for a
// build: Dataform in Google Cloud installs this repository's `dependencies` only to compile
// definitions/ (see docs/deployment.md, "What Dataform installs"), and the image builds dist/ in its
// own stage. There the build is skipped with one line instead of failing the whole install.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
let tsc;
try {
  tsc = join(dirname(createRequire(join(root, 'package.json')).resolve('typescript/package.json')), 'bin', 'tsc');
} catch {
  tsc = null;
}
if (tsc === null || !existsSync(join(root, 'src'))) {
  process.stdout.write('prepare: no TypeScript compiler or src/ here (a production install); dist/ not built\n');
} else {
  const build = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
  const precompile = build.status === 0 ? spawnSync(process.execPath, [join(root, 'scripts', 'precompile-sql.mjs')], { stdio: 'inherit' }) : build;
  process.exitCode = precompile.status ?? 1;
}
