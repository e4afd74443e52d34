// Provider host names resolved once per TTL, not once per connection. A live channel's upstream socket is never reused
// (its body never ends), so every cold open and every reconnect makes a new socket, and Node's default lookup runs
// getaddrinfo on the thread pool for each: a DNS query when the system has no local cache (most containers), and at
// least one loop iteration more before the connect. A cached answer comes on the next tick, where net.connect starts
// an IP literal's connect: a name then costs what an address costs (issue 24.8). Not in the same call: measured, a
// connect inside http.request() was slower, as it runs before the rest of the request is set up.
import { type LookupAddress, type LookupAllOptions, type LookupOneOptions, lookup as systemLookup } from 'node:dns';

/** Node's `lookup` option of net.connect (and of an http Agent): one address, or all of them with `all: true`. */
export type Lookup = (
  hostname: string,
  options: LookupOneOptions | LookupAllOptions,
  callback: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void,
) => void;

/** The system resolver's lookup of every address of a name, as dns.lookup(host, { all: true }) calls back. */
export type ResolveAll = (
  hostname: string,
  options: { family: number; hints: number },
  // Node passes no list with an error.
  callback: (err: NodeJS.ErrnoException | null, addresses: LookupAddress[] | undefined) => void,
) => void;

export interface DnsCacheOptions {
  /** How long an answer is reused. getaddrinfo tells no record TTL, so this is the bound on a stale address. */
  ttlMs: number;
  /** Names kept; the oldest answer makes room. */
  maxEntries?: number;
  resolveAll?: ResolveAll;
  now?: () => number;
}

export interface DnsCache {
  lookup: Lookup;
  /** Drops a name's answer, e.g. after a connection to its address failed: the next connection asks again. */
  forget(hostname: string): void;
  readonly size: number;
}

interface Entry {
  hostname: string;
  addresses: LookupAddress[];
  expiresAt: number;
}

type Waiter = (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void;

const systemResolveAll: ResolveAll = (hostname, options, callback) => systemLookup(hostname, { ...options, all: true }, callback);

export function createDnsCache(options: DnsCacheOptions): DnsCache {
  const maxEntries = options.maxEntries ?? 256;
  const resolveAll = options.resolveAll ?? systemResolveAll;
  const now = options.now ?? Date.now;
  const answers = new Map<string, Entry>();
  /** Lookups under way: players opening the same provider at once share one query. */
  const pending = new Map<string, Waiter[]>();

  function resolve(key: string, hostname: string, family: number, hints: number, waiter: Waiter): void {
    const waiting = pending.get(key);
    if (waiting !== undefined) {
      waiting.push(waiter);
      return;
    }
    const waiters = [waiter];
    pending.set(key, waiters);
    resolveAll(hostname, { family, hints }, (err, found) => {
      pending.delete(key);
      const addresses = err === null && found !== undefined ? found : [];
      // A failure is not kept: the next connection asks again, as it would without the cache.
      if (addresses.length > 0 && options.ttlMs > 0) {
        if (answers.size >= maxEntries) answers.delete(answers.keys().next().value as string);
        answers.set(key, { hostname, addresses, expiresAt: now() + options.ttlMs });
      }
      // Copies, as for a cached answer: no connection holds the list the cache keeps.
      for (const w of waiters) w(err, addresses.slice());
    });
  }

  const lookup: Lookup = (hostname, lookupOptions, callback) => {
    const family = typeof lookupOptions.family === 'number' ? lookupOptions.family : lookupOptions.family === 'IPv6' ? 6 : lookupOptions.family === 'IPv4' ? 4 : 0;
    const hints = lookupOptions.hints ?? 0;
    const all = lookupOptions.all === true;
    const key = `${family}:${hints}:${hostname}`;
    const answer = (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]): void => {
      if (err !== null) callback(err, all ? [] : '');
      else if (all) callback(null, addresses);
      else callback(null, addresses[0]?.address ?? '', addresses[0]?.family);
    };
    const cached = answers.get(key);
    if (cached !== undefined) {
      // A copy: net.connect may keep the list while the cache hands it to the next connection.
      if (cached.expiresAt > now()) return process.nextTick(answer, null, cached.addresses.slice());
      answers.delete(key);
    }
    resolve(key, hostname, family, hints, answer);
  };

  return {
    lookup,
    forget(hostname) {
      for (const [key, entry] of answers) if (entry.hostname === hostname) answers.delete(key);
    },
    get size() {
      return answers.size;
    },
  };
}
