// A reason the server or a command cannot start that the operator can fix: one line naming the file, setting or port
// at fault and what to do. The command line prints it without a stack trace and exits with code 2, as for a
// ConfigError.
export class StartupError extends Error {
  override name = "StartupError";
}
