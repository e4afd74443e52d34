// The bundle loads the node:* modules that a proxy of plain-HTTP providers may never use (TLS, crypto, zlib, child
// processes, promise fs) when they are first used, not when it starts: each module loaded stays in the process for
// good, and together they held ~1.3 MiB of an idle server's ~47 MiB RSS (issue 24.7).
//
// esbuild's CJS output reads an imported name at each use (`(0, import_node_crypto.createHash)(...)`), so the
// bundle's `require("node:crypto")` can hand back a stand-in whose properties are getters that require the real module
// at their first read. The call is renamed in place to one of the same length, so the source map stays exact, and the
// function is a hoisted declaration in the footer. src/ keeps start-up from reading these modules.
import { createRequire } from 'node:module';

/** Loaded on first use in the bundle; src/ writes them with the node: prefix. */
export const LAZY_BUILTINS: readonly string[] = ['https', 'tls', 'crypto', 'zlib', 'child_process', 'fs/promises'];

/** Same length as `require`, so that no column of the bundle moves. */
const LAZY_REQUIRE = '__lzreq';

/** The bundle's code with each `require("node:<name>")` of `names` made lazy. */
export function makeRequiresLazy(code: string, names: readonly string[] = LAZY_BUILTINS): string {
  let out = code;
  for (const name of names) out = out.split(`require("node:${name}")`).join(`${LAZY_REQUIRE}("node:${name}")`);
  return out;
}

/**
 * The footer that defines the lazy require. The names each module has are taken here, at build time (the executable
 * and the image run the Node that built them); a name a later Node adds is still found, through a Proxy prototype.
 */
export function lazyRequireFooter(names: readonly string[] = LAZY_BUILTINS): string {
  const load = createRequire(import.meta.url);
  const keys: Record<string, string[]> = {};
  for (const name of names) keys[`node:${name}`] = Object.keys(load(`node:${name}`) as object);
  return (
    `function ${LAZY_REQUIRE}(id){const made=${LAZY_REQUIRE}.made??=new Map();let s=made.get(id);if(s!==void 0)return s;` +
    `let m;const real=()=>m??=require(id);` +
    // esbuild's interop reads __esModule of what it imports: that read must not load the module.
    `const rest=new Proxy({},{get:(_,k)=>k==="__esModule"?void 0:real()[k],has:(_,k)=>k in real()});` +
    `s=Object.create(rest);for(const k of (${JSON.stringify(keys)})[id]??[])Object.defineProperty(s,k,{enumerable:true,get:()=>real()[k]});` +
    `made.set(id,s);return s}`
  );
}
