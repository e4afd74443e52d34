// The upstream connection pools: one keep-alive http Agent and one https Agent shared by every upstream request.
import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import type { DnsCache } from './dns-cache.ts';

export interface AgentOptions {
  /** Concurrent sockets per origin host; requests beyond it queue in the Agent. */
  maxSocketsPerHost?: number;
  /** Idle keep-alive sockets kept per origin host. */
  maxFreeSockets?: number;
  /** An idle pooled socket is closed after this long. */
  freeSocketTimeoutMs?: number;
  /** Where provider host names are resolved (DNS_CACHE_TTL); absent: Node's lookup for every new socket. */
  dns?: DnsCache;
}

/** Sockets of one origin host ("host:port", prefixed with https:// for TLS pools). */
export interface HostSockets {
  readonly host: string;
  /** Every open socket, in use or idle. */
  readonly open: number;
  /** Idle keep-alive sockets waiting in the pool. */
  readonly free: number;
}

export interface UpstreamAgents {
  readonly http: http.Agent;
  /** The pool for a URL's protocol. */
  agentFor(url: URL): http.Agent;
  snapshot(): HostSockets[];
  /** Closes every pooled and in-use socket; the agents must not be used afterwards. */
  destroy(): void;
}

export const DEFAULT_AGENT_OPTIONS: Required<Omit<AgentOptions, 'dns'>> = {
  // Every continuous player holds one upstream socket for as long as it plays, and an IPTV provider is often one
  // host: the bound must sit above the players one proxy serves (a request past it waits, then times out as 504).
  maxSocketsPerHost: 4096,
  maxFreeSockets: 32,
  freeSocketTimeoutMs: 15_000,
};

export function createAgents(options: AgentOptions = {}): UpstreamAgents {
  const o = { ...DEFAULT_AGENT_OPTIONS, ...options };
  // `timeout` is the idle timeout of a free socket (Node lowers it to a server's Keep-Alive hint). On its own it would
  // also arm every new socket's timer for its whole life, refreshed by each read and write of a relayed body (issue
  // 10.8): timeOutWhileFree() keeps it off while a request uses the socket.
  const common = {
    keepAlive: true,
    maxSockets: o.maxSocketsPerHost,
    maxFreeSockets: o.maxFreeSockets,
    timeout: o.freeSocketTimeoutMs,
    scheduling: 'lifo' as const,
    ...(o.dns === undefined ? {} : { lookup: o.dns.lookup }),
  };
  const httpAgent = new http.Agent(common);
  timeOutWhileFree(httpAgent);
  if (o.dns !== undefined) forgetWhenUnreachable(httpAgent, o.dns);
  // Made at the first https URL: a proxy of plain-HTTP providers never loads TLS (the bundle loads node:https lazily,
  // bin/lazy-builtins.ts), which keeps ~0.8 MiB out of its idle RSS (issue 24.7).
  let httpsAgent: https.Agent | undefined;
  const tlsAgent = (): https.Agent => {
    if (httpsAgent === undefined) {
      httpsAgent = new https.Agent(common);
      timeOutWhileFree(httpsAgent);
      if (o.dns !== undefined) forgetWhenUnreachable(httpsAgent, o.dns);
    }
    return httpsAgent;
  };

  return {
    http: httpAgent,
    agentFor: (url) => (url.protocol === 'https:' ? tlsAgent() : httpAgent),
    snapshot() {
      const byHost = new Map<string, { open: number; free: number }>();
      count(byHost, httpAgent, '');
      if (httpsAgent !== undefined) count(byHost, httpsAgent, 'https://');
      return [...byHost].map(([host, c]) => ({ host, open: c.open, free: c.free }));
    },
    destroy() {
      httpAgent.destroy();
      httpsAgent?.destroy();
    },
  };
}

/**
 * The Agent arms a socket's idle timer when the socket goes back to the pool (keepSocketAlive) and destroys a free
 * socket whose timer fires. This disarms it when a request takes the socket, new or reused, so that a socket relaying a
 * body pays no timer refresh per chunk; a request has its own deadlines (connect + headers in client.ts, stalls in the
 * feed).
 */
function timeOutWhileFree(agent: http.Agent): void {
  const create = agent.createConnection.bind(agent);
  const reuse = agent.reuseSocket.bind(agent);
  // The options are the Agent's own copy, made for this socket: set in place rather than copied once more.
  agent.createConnection = (options, callback) => {
    options.timeout = 0;
    return create(options, callback);
  };
  agent.reuseSocket = (socket, req) => {
    (socket as Socket).setTimeout(0);
    reuse(socket, req);
  };
}

/**
 * A socket closed before it connected (refused, unreachable, timed out) drops its host's cached address, so the next
 * connection asks the resolver again: a provider that moved is found without waiting out the TTL.
 */
function forgetWhenUnreachable(agent: http.Agent, cache: DnsCache): void {
  const create = agent.createConnection.bind(agent);
  agent.createConnection = (options, callback) => {
    const socket = create(options, callback) as Socket | undefined;
    const host = options.host;
    if (socket === undefined || typeof host !== 'string') return socket;
    let connected = false;
    socket.once('connect', () => (connected = true));
    socket.once('close', () => {
      if (!connected) cache.forget(host);
    });
    return socket;
  };
}

type SocketTable = NodeJS.ReadOnlyDict<unknown[]>;

/** Agent pool names are "host:port:<options...>"; the stats only need host and port. */
function hostOf(name: string, prefix: string): string {
  const m = /^([^:]*):(\d*)/.exec(name);
  return prefix + (m ? `${m[1]}:${m[2]}` : name);
}

function count(into: Map<string, { open: number; free: number }>, agent: http.Agent, prefix: string): void {
  // Agent.sockets holds in-use sockets only; a socket moves to freeSockets when released.
  add(into, agent.sockets as SocketTable, prefix, 'open');
  add(into, agent.freeSockets as SocketTable, prefix, 'free');
}

function add(into: Map<string, { open: number; free: number }>, table: SocketTable, prefix: string, field: 'open' | 'free'): void {
  for (const name of Object.keys(table)) {
    const n = table[name]?.length ?? 0;
    if (n === 0) continue;
    const host = hostOf(name, prefix);
    let c = into.get(host);
    if (!c) {
      c = { open: 0, free: 0 };
      into.set(host, c);
    }
    // A free socket is open too.
    c.open += n;
    if (field === 'free') c.free += n;
  }
}
