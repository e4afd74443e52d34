// Every child process a test starts is tracked here, so none outlives the suite: an after-hook that throws stops the
// hooks registered after it (node:test runs them in order and gives up at the first failure), and a child whose kill
// hook never ran would go on running, and spinning, after the test process has gone. Two nets below that:
// `stopChildren(t)`, awaited by the temp-dir hook before it removes anything the test's children may still write,
// and a root after-hook that kills whatever is left once the file's tests are done (a live child's pipes would
// otherwise keep the test process, and so the whole run, waiting for ever), with a synchronous SIGKILL at exit too.
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, type TestContext } from 'node:test';

const live = new Set<ChildProcess>();
const byTest = new WeakMap<TestContext, Set<ChildProcess>>();

function running(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

// Imported at a module's top level, so this lands on the root test: it runs after every test of the file.
after(() => stopAll());
process.once('exit', () => {
  for (const child of live) if (running(child)) child.kill('SIGKILL');
});

/** Tracks a freshly spawned child (of test `t`, when it has one) until it exits; returns it for chaining. */
export function trackChild<C extends ChildProcess>(t: TestContext | undefined, child: C): C {
  live.add(child);
  let set: Set<ChildProcess> | undefined;
  if (t !== undefined) {
    set = byTest.get(t);
    if (set === undefined) byTest.set(t, (set = new Set()));
    set.add(child);
  }
  const forget = () => {
    live.delete(child);
    set?.delete(child);
  };
  child.once('exit', forget);
  // A spawn that failed (ENOENT) never emits 'exit'.
  child.once('error', () => {
    if (child.pid === undefined) forget();
  });
  return child;
}

/** SIGKILLs every child of test `t` still running and resolves once all have exited. */
export function stopChildren(t: TestContext): Promise<void> {
  return stop(byTest.get(t) ?? []);
}

function stopAll(): Promise<void> {
  return stop(live);
}

async function stop(children: Iterable<ChildProcess>): Promise<void> {
  const waits: Promise<unknown>[] = [];
  for (const child of [...children]) {
    if (!running(child)) continue;
    waits.push(new Promise((resolve) => child.once('exit', resolve)));
    // A SIGSTOPped child dies only once continued.
    child.kill('SIGKILL');
    child.kill('SIGCONT');
  }
  await Promise.all(waits);
}

/**
 * A fresh directory under the OS temp dir, removed after the test: first every child of the test is stopped (a
 * restarted proxy may still be writing its state file there), then the tree is removed with retries for a slow disk.
 */
export async function tempDir(t: TestContext, prefix = 'm3u-test-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  t.after(async () => {
    await stopChildren(t);
    await rm(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  });
  return dir;
}

/** A signal to a process group (a child spawned with `detached: true`); a group already gone is what was wanted. */
export function killGroup(pid: number | undefined, signal: NodeJS.Signals = 'SIGKILL'): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}
