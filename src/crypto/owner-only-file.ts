// Writes secrets (tokens, keys) so that no reader ever sees one half written or readable by others: created 0600
// under a temporary name in a 0700 directory and flushed, then put in place in one step.
import { randomBytes } from "node:crypto";
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import { makeOwnerOnlyDirectory } from "../owner-only-directory.js";

/** Replaces `path` with `content`. */
export function writeOwnerOnlyFile(path: string, content: string): void {
  makeOwnerOnlyDirectory(dirname(path));
  const temporary = temporaryNameFor(path);
  try {
    writeNewOwnerOnlyFile(temporary, content);
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
}

/** A name beside `path` for a file to be renamed or linked into place. */
export function temporaryNameFor(path: string): string {
  return `${path}.${randomBytes(6).toString("hex")}.tmp`;
}

/** Creates `path` (failing if it exists), owner-only, with `content` on disk before it returns. */
export function writeNewOwnerOnlyFile(path: string, content: string): void {
  const fd = openSync(path, "wx", 0o600);
  try {
    writeSync(fd, content);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
