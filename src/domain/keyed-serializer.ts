// Runs async tasks one after another per key and concurrently across keys. Changes to one user queue here inside a
// process, so they never race each other's optimistic append; only another process can make an append lose.

/** Where a key's first task waits: one microtask, as after any other task. */
const idle = Promise.resolve();

export class KeyedSerializer {
  /** Per key, the settled-or-pending end of its queue; a key is forgotten once its last task has settled. */
  private readonly tails = new Map<string, Promise<void>>();

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const result = (this.tails.get(key) ?? idle).then(task);
    // The queue waits for the task however it ends; its error belongs to its caller alone. The tail forgets the key
    // itself, so that a task costs two promises: every change of a user passes here.
    const forget = () => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    };
    const tail = result.then(forget, forget);
    this.tails.set(key, tail);
    return result;
  }

  /** Keys with a task running or waiting. */
  get activeKeys(): number {
    return this.tails.size;
  }
}
