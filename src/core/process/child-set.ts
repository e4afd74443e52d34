// Every child process the app runs, so that shutdown can stop them all: no FFmpeg outlives the proxy (SPEC §13, §14).
import { type Child, DEFAULT_STOP_GRACE_MS } from './child.ts';

export class ChildSet {
  readonly #children = new Set<Child>();

  /** Tracks a child until it exits; returns it for chaining. */
  add(child: Child): Child {
    if (child.exit !== undefined) return child;
    this.#children.add(child);
    void child.exited.then(() => this.#children.delete(child));
    return child;
  }

  get size(): number {
    return this.#children.size;
  }

  /** Stops every child (SIGTERM, SIGKILL after the grace) and resolves when all have exited. */
  async stopAll(graceMs = DEFAULT_STOP_GRACE_MS): Promise<void> {
    await Promise.all([...this.#children].map((child) => child.stop(graceMs)));
  }
}
