// A failover resolver on 127.0.0.1:0, as m3u-editor runs one (POST /api/m3u-proxy/failover-resolver → {next_url}):
// records every question and answers per a scriptable mode. Built on the scriptable origin, so its teardown is the same.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TestContext } from 'node:test';
import { startOrigin, type Origin } from './origin.ts';

/** The body the proxy POSTs (SPEC §3.1). */
export interface ResolverQuestion {
  current_url: string;
  metadata: Record<string, string>;
  current_failover_index: number;
  status_code: number | null;
  reason: string;
}

/** 'next' answers {next_url}, 'none' answers {next_url:null}, 'status' an HTTP error, 'hang' never answers. */
export type ResolverMode = { kind: 'next'; url: string } | { kind: 'none' } | { kind: 'status'; status: number } | { kind: 'hang' };

export interface Resolver {
  readonly origin: Origin;
  /** The resolver endpoint. */
  readonly url: string;
  /** Health endpoint the editor tests with POST /test-connection: answers 200. */
  readonly upUrl: string;
  readonly questions: readonly ResolverQuestion[];
  setMode(mode: ResolverMode): void;
}

export const RESOLVER_PATH = '/api/m3u-proxy/failover-resolver';

export async function startResolver(t: TestContext, mode: ResolverMode = { kind: 'none' }): Promise<Resolver> {
  const questions: ResolverQuestion[] = [];
  let current = mode;
  const held = new Set<ServerResponse>();
  t.after(() => {
    for (const res of held) res.destroy();
  });
  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.once('end', () => {
      questions.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as ResolverQuestion);
      const m = current;
      if (m.kind === 'hang') {
        held.add(res);
        return;
      }
      if (m.kind === 'status') {
        res.writeHead(m.status, { 'content-type': 'application/json' }).end('{"error":"nope"}');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ next_url: m.kind === 'next' ? m.url : null }));
    });
  };
  const origin = await startOrigin(t, {
    [RESOLVER_PATH]: { kind: 'handler', handle },
    '/up': { kind: 'status', status: 200, body: '{"status":"ok"}' },
  });
  return {
    origin,
    url: origin.url(RESOLVER_PATH),
    upUrl: origin.url('/up'),
    questions,
    setMode: (m) => {
      current = m;
    },
  };
}
