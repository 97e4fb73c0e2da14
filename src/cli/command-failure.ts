// A command that ran and could not do its work (a backup that failed its check, messages that could not be
// retried): one line saying why, exit code 1.
export class CommandFailure extends Error {
  override name = "CommandFailure";
}
