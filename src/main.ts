// `npm start` and `node dist/main.js`: reads the configuration, starts the server, and shuts down gracefully on
// SIGTERM/SIGINT (as PID 1 in a container too: node then has no default handlers, so these are the only ones).
import { ConfigError, loadConfig } from "./config.js";
import { createLogger } from "./logger.js";
import { startServer } from "./server.js";
import { StartupError } from "./startup-error.js";

try {
  const config = loadConfig(process.argv.slice(2), process.env);
  const logger = createLogger(config.logLevel);
  // Handlers before "verifyd listening" is logged, so that no signal after it finds node's default (exit at once).
  const started = startServer(config, { logger });
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
        process.exit(0);
      },
      (error: unknown) => {
        logger.error("shutdown failed", { error: (error as Error).message });
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  await started;
} catch (error) {
  if (
    error instanceof ConfigError ||
    error instanceof StartupError ||
    (error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")
  ) {
    console.error(`verifyd: ${(error as Error).message}`);
    process.exit(2);
  }
  throw error;
}
