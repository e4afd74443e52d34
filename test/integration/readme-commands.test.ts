// Every fenced sh/bash block of README.md and docs/*.md runs as written against a real proxy, or the doc says why it
// cannot run here (issue 26). Documented hosts and ports are replaced by local servers on free ports; nothing else
// in a block is changed, and a block fails the test when any of its commands fails (bash -e, pipefail, curl --fail).
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { killGroup } from '../helpers/children.ts';
import { docFiles, REPO_ROOT, shellBlocks, type ShellBlock } from '../helpers/doc-blocks.ts';
import { startOrigin } from '../helpers/origin.ts';
import { cleanEnv, spawnProxy } from '../helpers/spawn-proxy.ts';
import { startReceiver } from '../helpers/webhook-receiver.ts';

const BLOCK_TIMEOUT_MS = 120_000;
const SERVER_START_TIMEOUT_MS = 60_000;

/** The proxy as the docs address it. */
const DOC_PROXY = ['localhost:8085', 'proxy.lan:8085'];
/** Example provider hosts of the docs: stood in for by local origins. */
const DOC_PROVIDER = 'http://provider.example';
const DOC_BACKUP = 'http://backup.example';
const DOC_EDITOR = 'http://editor.lan';
/** The example webhook receiver: a local receiver. */
const DOC_MANAGER = 'http://manager.lan';
/** The scratch directory of the README walk-through: a fresh temporary directory per run. */
const DOC_SCRATCH = '/tmp/m3u-try';

/** Blocks whose last command starts a server that runs until stopped. */
type ServerKind = { kind: 'proxy' } | { kind: 'http.server'; port: string };

function serverKind(block: ShellBlock): ServerKind | undefined {
  const commands = block.text.split('\n').map((l) => l.replace(/\s+#.*$/, '').trim()).filter((l) => l !== '' && !l.startsWith('#'));
  const last = commands.at(-1) ?? '';
  if (/^(npx\s+)?m3u-proxy(\s+--?[a-z][\w-]*(\s+[^-\s]\S*)?)*$/.test(last) && !/\s(--help|-h|--version|-v)\b/.test(last)) return { kind: 'proxy' };
  const http = /^python3 -m http\.server (\d+)\b/.exec(last);
  if (http?.[1] !== undefined) return { kind: 'http.server', port: http[1] };
  return undefined;
}

/** Tools a block needs beyond bash and coreutils; a missing one skips the file outside CI (BRIEF: Debian tools only). */
const TOOLS = ['ffmpeg', 'ffprobe', 'python3', 'curl'];

function missingTools(blocks: ShellBlock[]): string[] {
  const text = blocks.map((b) => b.text).join('\n');
  return TOOLS.filter((tool) => new RegExp(`(^|[\\s|;&(])${tool}\\s`, 'm').test(text)).filter(
    (tool) => spawnSync('bash', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status !== 0,
  );
}

interface Running {
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
}

/** bash -c in its own process group, so a timeout or teardown ends everything the block started (npx, node, python). */
function runBash(t: TestContext, script: string, env: NodeJS.ProcessEnv): Running {
  const child = spawn('bash', ['-c', `set -eo pipefail\n${script}`], { cwd: REPO_ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      killGroup(child.pid, 'SIGTERM');
      const gone = await Promise.race([exited.then(() => true), new Promise<boolean>((r) => setTimeout(r, 3_000, false))]);
      if (!gone) killGroup(child.pid, 'SIGKILL');
      await exited;
    }
  });
  let out = '';
  child.stdout?.setEncoding('utf8').on('data', (s: string) => (out += s));
  child.stderr?.setEncoding('utf8').on('data', (s: string) => (out += s));
  return { child, output: () => out, exited };
}

function where(block: ShellBlock): string {
  return `${block.file}:${block.line}`;
}

/** Waits until `pattern` shows in the output (its first group is the port), or fails when the block ends or hangs. */
async function waitForPort(block: ShellBlock, run: Running, pattern: RegExp): Promise<string> {
  const deadline = Date.now() + SERVER_START_TIMEOUT_MS;
  for (let ended = false; !ended; ) {
    const port = pattern.exec(run.output())?.[1];
    if (port !== undefined) return port;
    if (Date.now() > deadline) break;
    ended = await Promise.race([run.exited.then(() => true), new Promise<boolean>((r) => setTimeout(r, 50, false))]);
  }
  const port = pattern.exec(run.output())?.[1];
  if (port !== undefined) return port;
  return assert.fail(`${where(block)}: the server did not start:\n${run.output()}`);
}

async function runFile(t: TestContext, blocks: ShellBlock[]): Promise<void> {
  const scratch = mkdtempSync(join(tmpdir(), 'm3u-doc-'));
  t.after(() => rmSync(scratch, { recursive: true, force: true }));
  // curl fails on an HTTP error and is bounded, as every documented call should succeed; -q would skip this file.
  writeFileSync(join(scratch, '.curlrc'), 'fail-with-body\nsilent\nshow-error\nmax-time = 60\n');
  const provider = await startOrigin(t, { '/live/123.ts': { kind: 'live' }, '/api/m3u-proxy/up': { kind: 'status', status: 200, body: 'ok' } });
  const backup = await startOrigin(t, { '/live/123.ts': { kind: 'live' } });
  const receiver = await startReceiver(t);
  const hosts = new Map<string, string>([
    [DOC_PROVIDER, provider.url('')],
    [DOC_BACKUP, backup.url('')],
    [DOC_EDITOR, provider.url('')],
    [DOC_MANAGER, receiver.url.replace(/\/hook$/, '')],
    [DOC_SCRATCH, join(scratch, 'm3u-try')],
  ]);
  const env: NodeJS.ProcessEnv = {
    ...cleanEnv(),
    HOME: scratch,
    CURL_HOME: scratch,
    PYTHONUNBUFFERED: '1',
    // npx must run this checkout's bin, never fetch a package of that name.
    npm_config_offline: 'true',
    npm_config_update_notifier: 'false',
  };
  let proxyAddress: string | undefined;
  const useProxy = (address: string): void => {
    proxyAddress = address;
    for (const doc of DOC_PROXY) hosts.set(doc, address);
    env['M3U_PROXY_URL'] = `http://${address}`;
  };
  const substitute = (text: string): string => {
    let out = text;
    for (const [doc, local] of hosts) out = out.split(doc).join(local);
    return out;
  };

  for (const block of blocks) {
    const server = serverKind(block);
    const callsProxy = DOC_PROXY.some((d) => block.text.includes(d)) || /\bm3u-proxy\s+[a-z]/.test(block.text);
    if (server === undefined && callsProxy && proxyAddress === undefined) {
      const proxy = await spawnProxy(t, process.execPath, [join(REPO_ROOT, 'bin/m3u-proxy.js')], { cwd: REPO_ROOT });
      useProxy(`127.0.0.1:${proxy.port}`);
    }
    let script = substitute(block.text);
    if (server?.kind === 'http.server') script = script.replace(`http.server ${server.port}`, 'http.server 0');
    const foreign = [...script.matchAll(/https?:\/\/([^/\s'"$:]+)/g)].map((m) => m[1]).filter((h) => h !== '127.0.0.1' && h !== 'localhost');
    assert.deepEqual(foreign, [], `${where(block)}: a runnable block would reach another host; add it to the stand-ins of this test`);

    if (server === undefined) {
      const run = runBash(t, script, env);
      const timer = setTimeout(() => run.child.pid !== undefined && killGroup(run.child.pid, 'SIGKILL'), BLOCK_TIMEOUT_MS);
      const code = await run.exited;
      clearTimeout(timer);
      assert.equal(code, 0, `${where(block)} failed (exit ${code}):\n${script}\n--- output ---\n${run.output()}`);
      continue;
    }
    if (server.kind === 'proxy') {
      assert.equal(proxyAddress, undefined, `${where(block)}: a second proxy in one file`);
      const run = runBash(t, script, { ...env, M3U_PROXY_HOST: '127.0.0.1', M3U_PROXY_PORT: '0' });
      useProxy(`127.0.0.1:${await waitForPort(block, run, /m3u-proxy listening.*\bport=(\d+)/)}`);
    } else {
      const run = runBash(t, script, env);
      const port = await waitForPort(block, run, /Serving HTTP on \S+ port (\d+)/);
      hosts.set(`127.0.0.1:${server.port}`, `127.0.0.1:${port}`);
    }
  }
}

const files = docFiles().map((doc) => ({ doc, blocks: shellBlocks(doc) }));

test('every sh/bash block of the README and docs/ is run here or marked not-runnable with a reason', () => {
  const all = files.flatMap((f) => f.blocks);
  for (const block of all) {
    if (block.notRunnable !== undefined) assert.ok(block.notRunnable.length >= 8, `${where(block)}: the not-runnable marker needs a reason`);
  }
  const runnable = all.filter((b) => b.notRunnable === undefined);
  // The walk-through and the API, CLI and webhook examples are run: a doc change that marks them all would show here.
  assert.ok(runnable.length >= 6, `only ${runnable.length} runnable blocks`);
  assert.ok(runnable.some((b) => b.file === 'README.md' && serverKind(b)?.kind === 'proxy'), 'the README starts the proxy as documented');
});

for (const { doc, blocks } of files) {
  const runnable = blocks.filter((b) => b.notRunnable === undefined);
  if (runnable.length === 0) continue;
  test(`${doc.name}: its shell blocks run as written`, { timeout: 300_000 }, async (t) => {
    const missing = missingTools(runnable);
    if (missing.length > 0) {
      assert.notEqual(process.env['CI'], 'true', `missing ${missing.join(', ')} (CI must not skip)`);
      t.skip(`needs ${missing.join(', ')}`);
      return;
    }
    await runFile(t, runnable);
  });
}
