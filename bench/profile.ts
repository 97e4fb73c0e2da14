// `npx tsx bench/profile.ts` (or `npm run bench -- --profile`): runs the gRPC and REST success workloads against one
// verifyd started with node --cpu-prof, stops it with SIGTERM so the profile is written, and prints where the CPU went.
// Flags and environment as for the bench (see options.ts); the profile stays in .bench/profile/.
import { mkdirSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { formatSelfTimes, selfTimes } from "./cpu-profile.js";
import { runLoad } from "./load.js";
import { readBenchOptions } from "./options.js";
import { seedUsers } from "./seed-users.js";
import { repoRoot } from "./server-process.js";
import { type Protocol, createVerifyClient } from "./verify-clients.js";
import { adminToken, benchDir, copyDataDir, startVerifyd } from "./verifyd.js";

const options = readBenchOptions(process.argv.slice(2), process.env);
const protocols: Protocol[] = ["grpc", "rest"];
const perProtocol = options.warmup + options.requests;
const profileDir = join(benchDir, "profile");
rmSync(profileDir, { recursive: true, force: true });
mkdirSync(profileDir, { recursive: true });

// Each protocol verifies its own slice of the users: a user's code works once.
const seedDir = join(benchDir, "profile-seed");
const users = await seedUsers(seedDir, perProtocol * protocols.length, options.concurrency);
const server = await startVerifyd({
  dataDir: copyDataDir(seedDir, join(benchDir, "runs", "profile")),
  // A finer interval than the default 1 ms: a VerifyPhone call is around a millisecond of CPU.
  nodeFlags: ["--cpu-prof", "--cpu-prof-dir", profileDir, "--cpu-prof-interval", "250"],
});
const clients = protocols.map((protocol) => createVerifyClient(protocol, server.url, options.concurrency, adminToken(seedDir)));
try {
  for (const [slice, protocol] of protocols.entries()) {
    const client = clients[slice] as (typeof clients)[number];
    const result = await runLoad(
      perProtocol,
      options.concurrency,
      (index) => {
        const user = users[index] as (typeof users)[number];
        return client.verifyPhone(user.userId, user.phoneCode);
      },
      slice * perProtocol,
    );
    const rate = (perProtocol / result.seconds).toFixed(0);
    console.log(`${protocol}: ${perProtocol} calls, ${rate} req/s; outcomes ${JSON.stringify(result.outcomes)}`);
  }
} finally {
  // The server's graceful close ends the gRPC session with GOAWAY; closing the clients first would reset it.
  await server.stop();
  for (const client of clients) client.close();
}

const [file] = readdirSync(profileDir).filter((name) => name.endsWith(".cpuprofile"));
if (!file) throw new Error(`no .cpuprofile in ${profileDir}: did verifyd exit gracefully?`);
const { total, functions, areas } = selfTimes(join(profileDir, file), repoRoot);
console.log(`\nTop 25 functions by self time (${join(profileDir, file)}; verifyd's start-up and both workloads):`);
console.log(formatSelfTimes(functions, total, 25));
console.log("\nSelf time by area:");
console.log(formatSelfTimes(areas, total, 15, false));
