// Channel leases in Redis (research/scale-out.md §2.2, §5): "no lease, no upstream". The lease value is
// `owner|epoch`, where epoch is a fencing token from INCR that only grows. Renew and release compare the whole
// value, so a node whose lease expired and was taken by another cannot extend or delete the new owner's lease.

import type { RedisClient } from '../../core/redis/client.ts';

const ACQUIRE = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local epoch = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], ARGV[1] .. '|' .. epoch, 'PX', ARGV[2])
return epoch`;

const RENEW = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`;

const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

export interface LeaseKeys {
  lease: string;
  epoch: string;
}

export function leaseKeys(prefix: string, streamId: string): LeaseKeys {
  return { lease: `${prefix}lease:{${streamId}}`, epoch: `${prefix}epoch:{${streamId}}` };
}

export interface HeldLease {
  keys: LeaseKeys;
  owner: string;
  /** Fencing token: larger than every earlier holder's. */
  epoch: number;
  /** The stored value, compared on renew and release. */
  value: string;
}

/** SET NX PX plus INCR of the fencing counter, in one script; undefined when another node holds the lease. */
export async function acquireLease(redis: RedisClient, keys: LeaseKeys, owner: string, ttlMs: number): Promise<HeldLease | undefined> {
  const epoch = await redis.eval(ACQUIRE, [keys.lease, keys.epoch], [owner, ttlMs]);
  if (typeof epoch !== 'number' || epoch === 0) return undefined;
  return { keys, owner, epoch, value: `${owner}|${epoch}` };
}

/** True when still the owner and the expiry was pushed out to `ttlMs` from now. */
export async function renewLease(redis: RedisClient, lease: HeldLease, ttlMs: number): Promise<boolean> {
  return (await redis.eval(RENEW, [lease.keys.lease], [lease.value, ttlMs])) === 1;
}

/** True when this owner's lease was deleted; false when it had expired or belongs to someone else now. */
export async function releaseLease(redis: RedisClient, lease: HeldLease): Promise<boolean> {
  return (await redis.eval(RELEASE, [lease.keys.lease], [lease.value])) === 1;
}

export interface LeaseKeeperOptions {
  ttlMs: number;
  renewEveryMs: number;
  /** Time before the lease could expire at which the owner gives up (drops its upstream): ttl minus this. */
  safetyMs: number;
  /** Called once, before the lease can have expired in Redis, when it can no longer be sure to hold it. */
  onLost: (reason: string) => void;
}

/**
 * Renews a held lease on a timer. The deadline counts from when the last successful renew was SENT (the server
 * may have applied it any time after), so `onLost` fires at most `ttl - safety` after the lease was last
 * certainly extended, before any other node can acquire it.
 */
export class LeaseKeeper {
  private renewTimer: NodeJS.Timeout | undefined;
  private deadlineTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly redis: RedisClient, readonly lease: HeldLease, private readonly opts: LeaseKeeperOptions) {
    this.armDeadline(performance.now());
    this.scheduleRenew();
  }

  get active(): boolean {
    return !this.stopped;
  }

  /** Stops renewing; with `release`, deletes the lease if still ours. */
  async stop(release = true): Promise<void> {
    if (this.stopped) return;
    this.halt();
    if (release) await releaseLease(this.redis, this.lease);
  }

  private halt(): void {
    this.stopped = true;
    clearTimeout(this.renewTimer);
    clearTimeout(this.deadlineTimer);
    this.renewTimer = undefined;
    this.deadlineTimer = undefined;
  }

  private lost(reason: string): void {
    if (this.stopped) return;
    this.halt();
    this.opts.onLost(reason);
  }

  private armDeadline(sentAt: number): void {
    clearTimeout(this.deadlineTimer);
    const left = sentAt + this.opts.ttlMs - this.opts.safetyMs - performance.now();
    this.deadlineTimer = setTimeout(() => this.lost('lease could not be renewed before its expiry'), Math.max(0, left));
  }

  private scheduleRenew(): void {
    this.renewTimer = setTimeout(() => void this.renew(), this.opts.renewEveryMs);
  }

  private async renew(): Promise<void> {
    const sentAt = performance.now();
    let held: boolean;
    try {
      held = await renewLease(this.redis, this.lease, this.opts.ttlMs);
    } catch (err) {
      // Redis unreachable or slow: keep trying on the next tick; the deadline timer decides when it is lost.
      if (!this.stopped) this.scheduleRenew();
      void err;
      return;
    }
    if (this.stopped) return;
    if (!held) {
      this.lost('lease is held by another owner or expired');
      return;
    }
    this.armDeadline(sentAt);
    this.scheduleRenew();
  }
}
