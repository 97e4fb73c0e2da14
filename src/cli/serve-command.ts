// `verifyd serve` (also `verifyd` with flags only): reads the configuration, starts the server, and shuts down
// gracefully on SIGTERM/SIGINT (as PID 1 in a container too: node then has no default handlers, so these are the
// only ones).
import { type Config, type SettingName, loadConfig, settings } from "../config.js";
import { type Logger, createLogger } from "../logger.js";
import { type RunningServer, startServer } from "../server.js";
import { explainStorageFailure } from "../store/sqlite/open-database.js";
import type { CommandDefinition } from "./command.js";

export const serveCommand: CommandDefinition = {
  description: [
    "Serves gRPC, gRPC-Web, Connect and REST on one port, with the settings below; the first start creates the",
    "database, its keyring (unless VERIFYD_KEYS is given) and the administrator's token file.",
    "",
    "On SIGTERM or SIGINT it stops taking calls in steps (--shutdown-delay, then --shutdown-grace for calls in",
    "flight) and exits 0; a second signal exits at once with 1. Durations take ms, s, m, h, d; sizes KiB, MiB.",
  ].join("\n"),
  settings: Object.keys(settings) as SettingName[],
  async run(args, env) {
    const config = loadConfig(args, env);
    const logger = createLogger(config.logLevel);
    logProcessWarnings(logger);
    // Handlers before "verifyd listening" is logged, so that no signal after it finds node's default (exit at once).
    // The file's storage failing during the start (a first start's writes on a nearly full disk) is the operator's to
    // fix, and SQLite's own message names no file.
    const started = startServer(config, { logger }).catch((error: unknown) => {
      throw explainStorageFailure(error, config.database) ?? error;
    });
    const stopped = stopOnSignal(started, config, logger);
    await started;
    return stopped;
  },
};

/**
 * Node writes process warnings (a dependency's deprecation or security notice, such as pg's about sslmode) to stderr
 * as plain text, which breaks a log read as JSON lines: they become log lines instead. Node emits them on a later
 * tick, so one emitted while the configuration was read is caught too.
 */
function logProcessWarnings(logger: Logger): void {
  process.removeAllListeners("warning");
  process.on("warning", ({ name, message }) => logger.warn("process warning", { name, warning: message }));
}

/** Resolves with the exit code once a signal has shut the server down. */
function stopOnSignal(started: Promise<RunningServer>, config: Config, logger: Logger): Promise<number> {
  return new Promise((resolve) => {
    let shuttingDown = false;
    const onSignal = (signal: NodeJS.Signals) => {
      // An operator who signals again does not want to wait: the database stays consistent (SQLite's journal).
      if (shuttingDown) {
        logger.warn("second signal during shutdown: exiting at once with code 1", { signal });
        process.exit(1);
      }
      shuttingDown = true;
      logger.info("shutdown requested", { signal, ...config.shutdown });
      started.then((server) => server.close(config.shutdown)).then(
        () => {
          logger.info("verifyd stopped");
          resolve(0);
        },
        (error: unknown) => {
          logger.error("shutdown failed", { error: (error as Error).message });
          resolve(1);
        },
      );
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
  });
}
