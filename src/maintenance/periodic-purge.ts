// Deletes what no rule needs any more (limit entries past every limit's window, old security log entries, login
// failure counts long idle), so tables that refusals and floods write to stay bounded. One run at a time, in the
// background; a failure is logged and the next tick tries again.
import { DomainError } from "../domain/errors.js";
import type { Clock } from "../domain/ports.js";
import type { Logger } from "../logger.js";

export interface PurgeTask {
  /** What the log names when a run deletes rows or fails. */
  name: string;
  /** Deletes what is older than `now` allows; returns how many rows. */
  run(now: Date): Promise<number>;
}

export interface PeriodicPurge {
  /** Runs every task once now (tests); returns the rows deleted per task. */
  runOnce(): Promise<Record<string, number>>;
  stop(): Promise<void>;
}

export function startPeriodicPurge(options: { tasks: PurgeTask[]; clock: Clock; logger: Logger; intervalMs?: number }): PeriodicPurge {
  const { tasks, clock, logger } = options;
  let running: Promise<Record<string, number>> | undefined;

  const purgeAll = async (): Promise<Record<string, number>> => {
    const deleted: Record<string, number> = {};
    for (const task of tasks) {
      try {
        deleted[task.name] = await task.run(clock.now());
      } catch (error) {
        // An unavailable storage has logged its episode already.
        if (!(error instanceof DomainError && error.kind === "Unavailable")) logger.error("purge failed", { task: task.name, error });
      }
    }
    const total = Object.values(deleted).reduce((sum, count) => sum + count, 0);
    if (total > 0) logger.debug("purged", deleted);
    return deleted;
  };
  const runOnce = async (): Promise<Record<string, number>> => {
    while (running) await running;
    running = purgeAll().finally(() => {
      running = undefined;
    });
    return running;
  };
  const timer = setInterval(() => {
    if (!running) void runOnce();
  }, options.intervalMs ?? 60_000);
  timer.unref();

  return {
    runOnce,
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
