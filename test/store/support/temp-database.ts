// Each test gets its own SQLite file in a fresh temporary directory, closed and removed when the test ends.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { onTestFinished } from "vitest";
import { type DatabaseHandle, openDatabase } from "../../../src/store/sqlite/open-database.js";

export function tempDatabasePath(): string {
  const dir = mkdtempSync(join(tmpdir(), "verifyd-store-"));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, "data", "verifyd.sqlite");
}

/** Opens the file as another process would: a connection of its own. */
export function openTemp(path: string = tempDatabasePath()): DatabaseHandle & { path: string } {
  const handle = openDatabase(path);
  onTestFinished(() => handle.close());
  return { ...handle, path };
}
