// A reason the server or a command cannot start that the operator can fix: one line naming the file, setting or port
// at fault and what to do. The command line prints it without a stack trace and exits with code 2, as for a
// ConfigError.
import { existsSync } from "node:fs";
import { dirname } from "node:path";

export class StartupError extends Error {
  override name = "StartupError";
}

/**
 * What keeps verifyd from creating or writing a file of its own, when its system error tells: "make its directory
 * writable" would send the operator to the wrong place on a full disk, or under a path that runs through a file.
 * Undefined for the errors a directory's permissions may explain.
 */
export function unwritableFileProblem(path: string, { code }: NodeJS.ErrnoException): string | undefined {
  if (code === "ENOSPC") return "its disk is full; free space on it";
  if (code === "EDQUOT") return "this user's disk quota there is used up; free space on it";
  if (code === "ENOTDIR" || code === "EEXIST") return `${nearestExisting(dirname(path))} is a file, not a directory; move it away`;
  return undefined;
}

/** The path itself or its nearest ancestor that exists: where a file stands in for a directory. */
function nearestExisting(path: string): string {
  const parent = dirname(path);
  return existsSync(path) || parent === path ? path : nearestExisting(parent);
}
