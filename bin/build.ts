// `npm run build`: bundles the server into dist/main.cjs (see bundle.ts for why one file); `npm start` runs it.
import { rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ROOT, bundleServer, describeWarning } from './bundle.ts';

const OUT = join(ROOT, 'dist', 'main.cjs');

async function main(): Promise<void> {
  // tsc's per-file output of earlier builds would otherwise sit beside the bundle.
  rmSync(join(ROOT, 'dist'), { recursive: true, force: true });
  const warnings = await bundleServer(OUT, true);
  for (const w of warnings) process.stderr.write(`build: ${describeWarning(w)}\n`);
  process.stderr.write(`build: ${relative(ROOT, OUT)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`build: failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
