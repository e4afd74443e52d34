// Builds the single executable (Node SEA, SPEC §11): bundle src/main.ts to one CJS file, make the blob, inject it.
// Run with `npm run build:sea` (tsx). esbuild and postject are build-only tools; the output needs neither.
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { ROOT, bundleServer, describeWarning } from './bundle.ts';

/** The fuse Node's SEA loader looks for; fixed by Node, see doc/api/single-executable-applications.md. */
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';
const OUT_DIR = join(ROOT, 'build');
const BUNDLE = join(OUT_DIR, 'm3u-proxy.cjs');
const BLOB = join(OUT_DIR, 'sea-prep.blob');
const SEA_CONFIG = join(OUT_DIR, 'sea-config.json');
const EXE = join(OUT_DIR, process.platform === 'win32' ? 'm3u-proxy.exe' : 'm3u-proxy');

function step(msg: string): void {
  process.stderr.write(`build:sea: ${msg}\n`);
}

/** Node 20's SEA runs one CommonJS script whose require() knows only built-ins: everything else must be inlined. */
async function bundle(): Promise<void> {
  for (const w of await bundleServer(BUNDLE, false)) step(describeWarning(w));
}

function makeBlob(): void {
  const config = {
    main: relative(ROOT, BUNDLE),
    output: relative(ROOT, BLOB),
    disableExperimentalSEAWarning: true,
    useSnapshot: false,
    useCodeCache: false,
  };
  writeFileSync(SEA_CONFIG, JSON.stringify(config, null, 2) + '\n');
  execFileSync(process.execPath, ['--experimental-sea-config', relative(ROOT, SEA_CONFIG)], { cwd: ROOT, stdio: 'inherit' });
}

function inject(): void {
  rmSync(EXE, { force: true });
  copyFileSync(process.execPath, EXE);
  chmodSync(EXE, 0o755);
  const postjectCli = createRequire(import.meta.url).resolve('postject/dist/cli.js');
  const args = [postjectCli, EXE, 'NODE_SEA_BLOB', BLOB, '--sentinel-fuse', SEA_FUSE];
  if (process.platform === 'darwin') args.push('--macho-segment-name', 'NODE_SEA');
  execFileSync(process.execPath, args, { cwd: ROOT, stdio: 'inherit' });
}

async function main(): Promise<void> {
  mkdirSync(OUT_DIR, { recursive: true });
  step(`bundling src/main.ts with esbuild → ${relative(ROOT, BUNDLE)}`);
  await bundle();
  step(`preparing the SEA blob with ${process.execPath} ${process.version}`);
  makeBlob();
  step(`injecting into a copy of the node binary with postject → ${relative(ROOT, EXE)}`);
  inject();
  // Smoke test: the executable must answer --version without node_modules or sources (it runs from build/).
  const version = execFileSync(EXE, ['--version'], { cwd: OUT_DIR, encoding: 'utf8', env: { PATH: process.env['PATH'] ?? '' } });
  step(`ok: ${relative(ROOT, EXE)} (${Math.round(statSync(EXE).size / 1048576)} MiB) --version → ${version.trim()}`);
}

main().catch((err: unknown) => {
  step(`failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
});
