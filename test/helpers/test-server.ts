// Starts the real server in-process on an ephemeral port with a fresh SQLite file, a clock the test can move,
// and a delivery provider that records what would have been sent. Calls authenticate with the token the server's
// first start wrote for its IAM_OWNER administrator.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Config, loadConfig } from "../../src/config.js";
import type { OutgoingMessage } from "../../src/domain/outgoing-message.js";
import { createLogger } from "../../src/logger.js";
import { type RunningServer, startServer } from "../../src/server.js";

export class ManualClock {
  private current: number;
  constructor(start = Date.UTC(2026, 10, 22, 12, 0, 0)) {
    this.current = start;
  }
  now = (): Date => new Date(this.current);
  advance(ms: number): void {
    this.current += ms;
  }
}

export interface TestServer extends RunningServer {
  clock: ManualClock;
  delivered: OutgoingMessage[];
  dataDir: string;
  config: Config;
  /** The bootstrap administrator's (IAM_OWNER) bearer token, read from the admin token file. */
  adminToken: string;
}

export function readAdminToken(adminTokenFile: string): string {
  return readFileSync(adminTokenFile, "utf8").trim();
}

export interface TestServerOptions {
  tls?: { cert: string; key: string };
  /** Deliver through the providers the flags configure (a webhook) instead of recording into `delivered`. */
  configuredDelivery?: boolean;
  /** Environment variables for the configuration, e.g. the secrets production refuses as flags. */
  env?: NodeJS.ProcessEnv;
  /** Deliver only when the test calls `outbox.runOnce()`, never in the background between two of its calls. */
  deliverOnRunOnceOnly?: boolean;
}

export async function startTestServer(flags: string[] = [], options: TestServerOptions = {}): Promise<TestServer> {
  const dataDir = mkdtempSync(join(tmpdir(), "verifyd-test-"));
  // Never holding the SQLite file: a test in this process that opens it (synchronously, as better-sqlite3 does) would
  // wait for a lock that only this same, waiting thread could give up. Servers in processes of their own hold it
  // (test/e2e/sqlite-locking.test.ts).
  const defaults = ["--port", "0", "--database", join(dataDir, "verifyd.sqlite"), "--log-level", "silent", "--sqlite-locking", "normal"];
  const config = loadConfig([...defaults, ...flags], options.env ?? {});
  if (options.tls) config.tls = options.tls;
  const clock = new ManualClock();
  const delivered: OutgoingMessage[] = [];
  const server = await startServer(config, {
    clock,
    logger: createLogger("silent"),
    ...(options.configuredDelivery ? {} : { deliveryProvider: { deliver: async (message) => void delivered.push(message) } }),
    ...(options.deliverOnRunOnceOnly ? { outboxPollIntervalMs: 24 * 3_600_000 } : {}),
  });
  return {
    ...server,
    clock,
    delivered,
    dataDir,
    config,
    adminToken: readAdminToken(config.adminTokenFile),
    async close(shutdown) {
      await server.close(shutdown);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
