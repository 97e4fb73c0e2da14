// The server's WAL checkpoints, in a thread of their own. A checkpoint copies the pages that commits appended to the
// WAL back into the database file and syncs it; SQLite runs one by itself inside the commit that makes the WAL pass
// 1,000 pages, which under load was one commit in ten, each holding the event loop for 6–10 ms, mostly waiting for
// the disk's sync (6.7% of the server's time at saturation, README step 28). A second connection in a worker thread
// runs a passive checkpoint every interval instead: SQLite lets it copy while the server's connection reads and
// writes. The server's connection keeps a checkpoint of its own only as a backstop, at a WAL many times larger, for a
// worker that falls behind or cannot open the file.
import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";
import type Database from "better-sqlite3";
import type { Logger } from "../../logger.js";

export interface BackgroundCheckpoints {
  /** Stops the worker and closes its connection; the server's connection is closed after it (its close checkpoints). */
  stop(): Promise<void>;
}

/** Often enough that a WAL under full load stays near the 1,000 pages of SQLite's own checkpoints. */
const intervalMs = 100;
/** Ten times SQLite's default, in pages. */
const backstopPages = 10_000;
const stopTimeoutMs = 10_000;

// The worker's code, as source: a file of its own would not exist beside src/*.ts when tests run the server from the
// TypeScript sources. CommonJS, as an evaluated worker is; better-sqlite3 is required by the path the server uses.
// A checkpoint that finds another in progress (a second verifyd on the file) reports it as busy, not as a failure.
const workerSource = `
const { parentPort, workerData } = require("node:worker_threads");
const Database = require(workerData.driver);
let db;
let failing = false;
const report = (message) => parentPort.postMessage(message);
try {
  db = new Database(workerData.path, { fileMustExist: true });
  db.pragma("busy_timeout = 0");
  db.pragma("synchronous = NORMAL");
} catch (error) {
  report({ failure: String(error && error.message) });
}
const timer = db && setInterval(() => {
  try {
    db.pragma("wal_checkpoint(PASSIVE)");
    if (failing) report({ recovered: true });
    failing = false;
  } catch (error) {
    if (!failing) report({ failure: String(error && error.message) });
    failing = true;
  }
}, workerData.intervalMs);
parentPort.on("message", () => {
  clearInterval(timer);
  db?.close();
  parentPort.close();
});
`;

export function startBackgroundCheckpoints(sqlite: Database.Database, path: string, logger: Logger): BackgroundCheckpoints {
  sqlite.pragma(`wal_autocheckpoint = ${backstopPages}`);
  const driver = createRequire(import.meta.url).resolve("better-sqlite3");
  const worker = new Worker(workerSource, { eval: true, workerData: { driver, path, intervalMs } });
  // A server that is not closed (a test's) must still be able to exit.
  worker.unref();
  worker.on("message", (message: { failure?: string; recovered?: true }) => {
    if (message.failure !== undefined) {
      logger.warn("background checkpoints failing: the WAL grows until they work again or the server's own checkpoint runs", {
        database: path,
        error: message.failure,
      });
    } else if (message.recovered) logger.info("background checkpoints work again", { database: path });
  });
  worker.on("error", (error) => logger.error("background checkpoint worker failed", { database: path, error }));
  const exited = new Promise<void>((resolve) => worker.once("exit", () => resolve()));
  return {
    async stop() {
      worker.postMessage("stop");
      const timeout = setTimeout(() => void worker.terminate(), stopTimeoutMs);
      await exited;
      clearTimeout(timeout);
    },
  };
}
