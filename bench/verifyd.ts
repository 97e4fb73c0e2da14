// verifyd as the bench runs it: from src/main.ts like `npm start -- --production`, on a database of its own under
// .bench/.
import { cpSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { type ServerProcess, repoRoot, startServerProcess } from "./server-process.js";

export const benchDir = join(repoRoot, ".bench");

export interface VerifydOptions {
  /** Holds verifyd.sqlite and the keyring.json verifyd generates next to it. */
  dataDir: string;
  nodeFlags?: string[];
  args?: string[];
}

export function startVerifyd(options: VerifydOptions): Promise<ServerProcess> {
  return startServerProcess({
    script: "src/main.ts",
    // warn: nothing is logged per request at any level today, but the bench should not depend on that.
    args: [
      ...["--production", "--port", "{port}", "--database", join(options.dataDir, "verifyd.sqlite"), "--log-level", "warn"],
      // No load balancer to wait for between runs.
      ...["--shutdown-delay", "0s"],
      ...(options.args ?? []),
    ],
    ...(options.nodeFlags ? { nodeFlags: options.nodeFlags } : {}),
  });
}

/** The bearer token of the IAM_OWNER the first start in `dataDir` created; copies of the directory share it. */
export function adminToken(dataDir: string): string {
  return readFileSync(join(dataDir, "admin-token"), "utf8").trim();
}

/**
 * A fresh copy of the seeded data directory (database and keyring) for one run: every run starts from the same
 * unverified users, so no run uses up another's codes, and each server process starts with the same data.
 */
export function copyDataDir(from: string, to: string): string {
  rmSync(to, { recursive: true, force: true });
  cpSync(from, to, { recursive: true });
  return to;
}
