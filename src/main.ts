// `npm start`: reads the configuration, starts the server, and shuts down gracefully on SIGINT/SIGTERM.
import { ConfigError, loadConfig } from "./config.js";
import { startServer } from "./server.js";
import { StartupError } from "./startup-error.js";

try {
  const config = loadConfig(process.argv.slice(2), process.env);
  const server = await startServer(config);
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      server.close().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    });
  }
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
