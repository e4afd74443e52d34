// Node's floor as a process of its own (live-floor.ts's 20-line http.request + pipe proxy), for the memory and
// first-byte sections of the bench: what any Node proxy costs at least, beside m3u-proxy and nginx in one run.
import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { LIVE_FLOOR_SOURCE } from './live-floor.ts';
import { freePort, httpGet } from './proxy.ts';

export interface FloorProcess {
  pid: number;
  base: string;
  stop(): Promise<void>;
}

/**
 * Starts the floor in front of the origin on `originPort`, reached at `originHost` (a name is looked up for every new
 * socket, as Node does by default); resolves once it answers.
 */
export async function startFloor(originPort: number, originHost = '127.0.0.1'): Promise<FloorProcess> {
  const port = await freePort();
  // BENCH_FLOOR_NODE_ARGS: node flags for the floor alone (e.g. --cpu-prof, to compare with the proxy's profile).
  const nodeArgs = (process.env['BENCH_FLOOR_NODE_ARGS'] ?? '').split(/\s+/).filter((a) => a !== '');
  const child = spawn(process.execPath, [...nodeArgs, '-e', LIVE_FLOOR_SOURCE, String(originPort), String(port), originHost], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(killer);
  };
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) break;
    // Any answer means it listens (the origin's 404 for this path comes through it).
    if ((await httpGet(`${base}/none`, 500)) !== undefined) return { pid: child.pid ?? 0, base, stop };
    await sleep(50);
  }
  await stop();
  throw new Error('node floor did not start');
}
