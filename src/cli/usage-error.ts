// A command line that cannot run as given: an unknown command, flag or argument, a missing argument, a file the
// command refuses to touch. One line naming what to change, exit code 2, like a bad setting (ConfigError).
export class UsageError extends Error {
  override name = "UsageError";
}
