// The keyring generated into the data directory when no keys are configured. It is written atomically (a complete
// temporary file linked into place), so a crash never leaves an empty or partial keyring, and two processes
// starting together on a fresh directory agree on one key. A keyring is never generated next to a database that
// already holds data: that data was made with the lost keyring, which the operator must restore.
import { randomBytes } from "node:crypto";
import { chmodSync, linkSync, readFileSync, renameSync, rmSync, statSync } from "node:fs";
import { dirname } from "node:path";
import { StartupError } from "../startup-error.js";
import { type Keyring, masterKeyBytes, parseKeyList } from "./keyring.js";
import { temporaryNameFor, writeNewOwnerOnlyFile } from "./owner-only-file.js";
import { makeOwnerOnlyDirectory } from "../owner-only-directory.js";

interface KeyringFile {
  current: string;
  keys: Record<string, string>;
}

export interface KeyringFileOptions {
  /** False when the database already holds data made with some keyring: a missing one is then refused. */
  mayCreate: boolean;
}

const restore = "restore keyring.json from a backup, or give the keys with VERIFYD_KEYS";

/** Reads the keyring file, generating it (owner-only) with one fresh key when there is none and that is allowed. */
export function loadKeyringFile(path: string, options: KeyringFileOptions): Keyring {
  const existing = readKeyringFile(path);
  if (existing) return existing;
  if (!options.mayCreate) {
    throw new StartupError(
      `the keyring ${path} is missing or empty, but the database next to it holds codes and messages made with its keys; ${restore} (a new keyring could open none of them)`,
    );
  }
  writeNewKeyringFile(path);
  const created = readKeyringFile(path);
  if (!created) throw new StartupError(`the keyring ${path} vanished right after it was written; check what else writes there`);
  return created;
}

/** The keyring in the file; undefined when there is no file or it is empty (no keys were ever written to it). */
function readKeyringFile(path: string): Keyring | undefined {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
    if (text.trim() !== "") chmodSync(path, 0o600);
  } catch (error) {
    const { code, message } = error as NodeJS.ErrnoException;
    if (code === "ENOENT") return undefined;
    throw new StartupError(`cannot read the keyring ${path} (${code ?? message}); make it readable by this user, or ${restore}`);
  }
  if (text.trim() === "") return undefined;
  try {
    const file = JSON.parse(text) as KeyringFile;
    return parseKeyList(
      [file.current, ...Object.keys(file.keys).filter((id) => id !== file.current)]
        .map((id) => `${id}:${file.keys[id]}`)
        .join(","),
    );
  } catch {
    // JSON.parse quotes the text it fails on, which is key material: say only what is wrong.
    throw new StartupError(`the keyring ${path} is damaged (not {"current": id, "keys": {id: base64 key}}); ${restore}`);
  }
}

function writeNewKeyringFile(path: string): void {
  const fresh: KeyringFile = { current: "1", keys: { "1": randomBytes(masterKeyBytes).toString("base64") } };
  const temporary = temporaryNameFor(path);
  try {
    makeOwnerOnlyDirectory(dirname(path));
    writeNewOwnerOnlyFile(temporary, `${JSON.stringify(fresh, null, 2)}\n`);
    try {
      // link fails if the file exists, so of two processes starting together only the first one's key is used.
      linkSync(temporary, path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      // An empty file is what an older version left when it crashed while writing; nothing was made with it.
      if (statSync(path).size === 0) renameSync(temporary, path);
    }
  } catch (error) {
    const { code, message } = error as NodeJS.ErrnoException;
    throw new StartupError(
      `cannot write the keyring ${path} (${code ?? message}); make its directory writable by this user, or give the keys with VERIFYD_KEYS`,
    );
  } finally {
    rmSync(temporary, { force: true });
  }
}
