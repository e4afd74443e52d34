// One CommonJS bundle of src/main.ts with esbuild, for `npm run build` (dist/main.cjs) and the single executable.
// Why one CJS file and not tsc's 190 ES modules: the server idles ~10 MiB lower (issue 24.7, docs/performance.md): no
// ES module loader, whose URL work V8 optimised at start, no per-module records, no ESM facades of node:* modules.
import { readFileSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Message } from 'esbuild';
import { lazyRequireFooter, makeRequiresLazy } from './lazy-builtins.ts';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Bundles src/main.ts into `outfile`. Throws on what would break at run time: import.meta in CJS, a require() of a
 * non-built-in module (only node:* may stay outside: the executable has no node_modules), and any non-ASCII byte (V8
 * would then hold the whole script as a two-byte string: 1 MB instead of 0.5).
 */
export function bundleServer(outfile: string, sourcemap: boolean): Promise<readonly Message[]> {
  return bundleEntry(join(ROOT, 'src', 'main.ts'), outfile, sourcemap);
}

/** bundleServer() for any entry file (the tests bundle small ones the same way). */
export async function bundleEntry(entry: string, outfile: string, sourcemap: boolean): Promise<readonly Message[]> {
  const result = await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    // Comments and indentation are not kept in memory. Identifiers stay as written (stack traces, error names); no
    // keepNames: its __name() wrapper ran for every closure made per request, ~70 µs of a cold start (issue 24.8).
    minifyWhitespace: true,
    // Constant folding and shorter statements, names untouched: 0.3 MiB less idle RSS (47.5 → 47.2 MiB, four
    // alternating runs), from a script V8 holds whole and compiles less of.
    minifySyntax: true,
    charset: 'ascii',
    legalComments: 'none',
    sourcemap: sourcemap ? 'linked' : false,
    logLevel: 'silent',
    // Defines the lazy require of lazy-builtins.ts: a hoisted declaration, so the end of the file is early enough.
    footer: { js: lazyRequireFooter() },
  });
  const fatal = result.warnings.filter((w: Message) => /import\.meta|top-level await|require\(\) of/i.test(w.text));
  if (fatal.length > 0) throw new Error(`${fatal.length} warning(s) would break the bundle: ${fatal.map((w) => w.text).join('; ')}`);
  const code = makeRequiresLazy(readFileSync(outfile, 'latin1'));
  writeFileSync(outfile, code, 'latin1');
  const builtins = new Set(builtinModules);
  const loaded = [...code.matchAll(/\brequire\("([^"]+)"\)/g)].map((m) => m[1] ?? '');
  const foreign = [...new Set(loaded)].filter((name) => !builtins.has(name.replace(/^node:/, '')));
  if (foreign.length > 0) throw new Error(`the bundle still loads non-built-in modules: ${foreign.join(', ')}`);
  const nonAscii = code.search(/[^\x00-\x7f]/);
  if (nonAscii >= 0) throw new Error(`non-ASCII text in the bundle near: ${JSON.stringify(code.slice(Math.max(0, nonAscii - 40), nonAscii + 10))}`);
  return result.warnings;
}

/** One line for a build warning, with where it is. */
export function describeWarning(w: Message): string {
  return `warning: ${w.text}${w.location ? ` (${w.location.file}:${w.location.line})` : ''}`;
}
