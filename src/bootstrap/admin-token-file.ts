// The admin token file holds the bootstrap administrator's token, owner-only. A file that cannot be written is one
// line naming it and the setting that moves it, for the first start and for `verifyd admin token` alike.
import { linkSync, rmSync, statSync } from "node:fs";
import { dirname } from "node:path";
import { temporaryNameFor, writeNewOwnerOnlyFile, writeOwnerOnlyFile } from "../crypto/owner-only-file.js";
import { StartupError, unwritableFileProblem } from "../startup-error.js";
import { makeOwnerOnlyDirectory } from "../owner-only-directory.js";

const elsewhere = "choose another file with --admin-token-file / ADMIN_TOKEN_FILE";

/** Writes the token to `path`, replacing what is there (`verifyd admin token` asks for --force first). */
export function writeAdminTokenFile(path: string, content: string): void {
  try {
    writeOwnerOnlyFile(path, content);
  } catch (error) {
    throw unwritable(path, error);
  }
}

/**
 * Writes a first start's token to `path` only if there is no file there: two databases in one directory (or two
 * PostgreSQL databases started from one directory) would otherwise share the default file, and the second first start
 * would replace the first database's token without a word.
 */
export function writeNewAdminTokenFile(path: string, content: string): void {
  const temporary = temporaryNameFor(path);
  let directoryMade = false;
  try {
    // Written whole under a name of its own, then linked into place: the link fails if the file exists.
    makeOwnerOnlyDirectory(dirname(path));
    directoryMade = true;
    writeNewOwnerOnlyFile(temporary, content);
    linkSync(temporary, path);
  } catch (error) {
    // Only the link's: making a parent directory where a file is gives EEXIST too.
    if ((error as NodeJS.ErrnoException).code === "EEXIST" && isDirectory(dirname(path))) {
      refuseDirectory(path);
      throw new StartupError(
        `the admin token file ${path} exists, though this database has no administrator yet: it holds another database's token, or a failed first start's; move it away, or ${elsewhere}`,
      );
    }
    throw unwritable(path, error);
  } finally {
    // Under a path that runs through a file there is none, and rm's ENOTDIR would hide why.
    if (directoryMade) rmSync(temporary, { force: true });
  }
}

/** Throws the refusal for a directory given as the file, which "exists" or "cannot be written" would misname. */
export function refuseDirectory(path: string): void {
  if (isDirectory(path)) throw aDirectory(path);
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    // Missing, or under something that is no directory: the write's own error says which.
    return false;
  }
}

function aDirectory(path: string): StartupError {
  return new StartupError(`the admin token file ${path} is a directory; give the path of a file in it, or ${elsewhere}`);
}

function unwritable(path: string, error: unknown): StartupError {
  if (isDirectory(path)) return aDirectory(path);
  const { code, message } = error as NodeJS.ErrnoException;
  const cannot = `cannot write the admin token file ${path} (${code ?? message})`;
  const problem = unwritableFileProblem(path, error as NodeJS.ErrnoException);
  if (problem !== undefined) return new StartupError(`${cannot}: ${problem}, or ${elsewhere}`);
  return new StartupError(`${cannot}; make its directory writable by this user, or ${elsewhere}`);
}
