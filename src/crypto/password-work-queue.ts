// Each argon2id hash or verify takes a core for tens of milliseconds on the thread pool. Unbounded, a flood of logins
// with made-up names (each costs a verify, so that timing tells no names apart) took both cores of a 2-core server,
// left the event loop a third of one, and queued every other login behind it. So password work runs a few at a
// time, first come first served, and beyond a bounded queue it is refused at once rather than kept waiting.
import { errors } from "../domain/errors.js";

export interface PasswordWorkLimits {
  /** Hashes and verifies running at once. */
  atOnce: number;
  /** Hashes and verifies waiting for one of those places; one more is refused with PASSWORD_CHECKS_BUSY. */
  waiting: number;
}

export interface PasswordWorkQueue {
  /** Runs `work` once a place is free; rejects with errors.passwordChecksBusy() when the queue is full. */
  run<T>(work: () => Promise<T>): Promise<T>;
}

export function createPasswordWorkQueue(limits: PasswordWorkLimits): PasswordWorkQueue {
  let running = 0;
  const waiting: (() => void)[] = [];

  const leave = () => {
    const next = waiting.shift();
    if (next) next();
    else running--;
  };

  return {
    async run(work) {
      if (running < limits.atOnce) running++;
      else if (waiting.length < limits.waiting) await new Promise<void>((start) => waiting.push(start));
      else throw errors.passwordChecksBusy();
      // A place handed over by leave() stays counted in `running`: it passes from the finished work to this one.
      try {
        return await work();
      } finally {
        leave();
      }
    },
  };
}
