// `mkdir -p` for the directories verifyd writes its files in (the database's, the keyring's, the admin token's):
// owner-only when created. Not Node's `recursive` option: on Node 20 it loops forever where the kernel answers ENOENT
// for a directory whose parent exists (a path under /proc), which hung the start instead of refusing it.
import { mkdirSync, statSync } from "node:fs";
import { dirname } from "node:path";

/** Creates `directory` and any missing parents (0700); throws the first failure, as mkdir would report it. */
export function makeOwnerOnlyDirectory(directory: string): void {
  try {
    mkdirSync(directory, { mode: 0o700 });
  } catch (error) {
    const { code } = error as NodeJS.ErrnoException;
    if (code === "EEXIST" && statSync(directory).isDirectory()) return;
    const parent = dirname(directory);
    // Only a missing parent is worth creating; one that exists and still gives ENOENT cannot hold a directory.
    if (code !== "ENOENT" || parent === directory || exists(parent)) throw error;
    makeOwnerOnlyDirectory(parent);
    mkdirSync(directory, { mode: 0o700 });
  }
}

function exists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}
