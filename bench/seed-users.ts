// Creates the users the timed runs verify: each with its own mobile number and a phone code returned to the caller.
// Done once per bench, untimed, on a verifyd of its own that is then stopped, so its data directory is a snapshot
// that each run copies (see copyDataDir).
import { mkdirSync, rmSync } from "node:fs";
import { createClient } from "@connectrpc/connect";
import { Http2SessionManager, createGrpcTransport } from "@connectrpc/connect-node";
import { UserService } from "../src/gen/zitadel/user/v2/user_service_pb.js";
import { runLoad } from "./load.js";
import { withBearer } from "./verify-clients.js";
import { adminToken, startVerifyd } from "./verifyd.js";

export interface SeededUser {
  userId: string;
  phoneCode: string;
}

export async function seedUsers(dataDir: string, count: number, concurrency: number): Promise<SeededUser[]> {
  rmSync(dataDir, { recursive: true, force: true });
  mkdirSync(dataDir, { recursive: true });
  // Codes live 10 minutes by default; a long bench must not see the first users' codes expire.
  const server = await startVerifyd({ dataDir, args: ["--code-ttl", "1h"] });
  const sessionManager = new Http2SessionManager(server.url);
  const client = createClient(UserService, createGrpcTransport({ baseUrl: server.url, sessionManager, interceptors: [withBearer(adminToken(dataDir))] }));
  const users: SeededUser[] = new Array(count);
  try {
    const result = await runLoad(count, concurrency, async (index) => {
      const added = await client.addHumanUser({
        profile: { givenName: "Bench", familyName: `User ${index}` },
        // Distinct valid Swiss mobile numbers: +41 79 and seven digits.
        phone: { phone: `+4179${String(index).padStart(7, "0")}`, verification: { case: "returnCode", value: {} } },
      });
      if (added.phoneCode === undefined) throw new Error("AddHumanUser returned no phone code");
      users[index] = { userId: added.userId, phoneCode: added.phoneCode };
      return "ok";
    });
    process.stderr.write(`seeded ${count} users in ${result.seconds.toFixed(1)} s\n`);
  } finally {
    // A graceful stop closes the database, which checkpoints the WAL into the file that runs copy. It also ends
    // the client's session with GOAWAY, so the abort after it is only a safety net.
    await server.stop();
    sessionManager.abort();
  }
  return users;
}
