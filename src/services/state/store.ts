// The seam between durable state and where it lives (SPEC §12): a file today; another store (shared by replicas) later.
import type { StateSnapshot } from '../../core/state/state-file.ts';

export interface StateStore {
  /** Where the state lives, for log lines and error messages. */
  readonly where: string;
  /** The last saved state, undefined when there is none yet; StateError when it exists but cannot be used. */
  load(): Promise<StateSnapshot | undefined>;
  /** Resolves only once the whole snapshot is durable; a failure leaves the previous state intact. One call at a time. */
  save(snapshot: StateSnapshot): Promise<void>;
}

/** Keeps the last snapshot in memory: for tests, and a reference for other implementations. */
export function createMemoryStateStore(initial?: StateSnapshot): StateStore & { saves: number; last: StateSnapshot | undefined } {
  return {
    where: 'memory',
    saves: 0,
    last: initial === undefined ? undefined : structuredClone(initial),
    async load() {
      return this.last === undefined ? undefined : structuredClone(this.last);
    },
    async save(snapshot) {
      this.saves += 1;
      this.last = structuredClone(snapshot);
    },
  };
}
