/**
 * Runs tasks one at a time per key, in the order they were submitted; tasks under different keys
 * run concurrently. The brain uses it so two messages in one conversation do not both read the
 * same history and answer past each other: the second turn starts once the first is recorded.
 *
 * Only keys with work queued or running are held: a key is removed when its last task settles,
 * so the map is as large as the number of busy conversations, never the number ever seen.
 */
export class KeyedSerializer {
  /** Per busy key: the settlement of the last task submitted under it. */
  private readonly tails = new Map<string, Promise<void>>();

  /** Keys with a task queued or running. */
  get size(): number {
    return this.tails.size;
  }

  /**
   * Runs `task` after every task submitted earlier under `key` has settled (fulfilled or
   * rejected: one failing turn does not block the conversation). Resolves or rejects as `task` does.
   */
  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const result = previous.then(task);
    const settled = result.then(ignore, ignore);
    this.tails.set(key, settled);
    void settled.then(() => {
      // A task submitted after this one owns the tail now; only the last one removes the key.
      if (this.tails.get(key) === settled) this.tails.delete(key);
    });
    return result;
  }
}

function ignore(): void {}
