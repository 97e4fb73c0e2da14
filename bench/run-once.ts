// One measured run: a fresh server process, a warm-up, the timed calls, then the server's peak RSS and CPU time.
// A fresh process per run keeps peaks comparable: VmHWM is the peak since the process started.
import { join } from "node:path";
import { runLoad } from "./load.js";
import type { SeededUser } from "./seed-users.js";
import { type ServerProcess, startServerProcess } from "./server-process.js";
import { percentile } from "./stats.js";
import { type Protocol, createVerifyClient } from "./verify-clients.js";
import { adminToken, benchDir, copyDataDir, startVerifyd } from "./verifyd.js";

export type Target = "h2 canned" | "h1 canned" | "verifyd";
export type Workload = "ceiling" | "success" | "wrong-code";

export interface RunConfig {
  target: Target;
  protocol: Protocol;
  workload: Workload;
}

export interface RunResult extends RunConfig {
  repeat: number;
  requests: number;
  seconds: number;
  reqPerSec: number;
  p50Ms: number;
  p99Ms: number;
  /** Timed calls that did not end as the workload must: "ok", or InvalidArgument (code 3) for wrong codes. */
  errors: number;
  outcomes: Record<string, number>;
  peakRssMiB: number;
  serverCpuUsPerRequest: number;
  clientCpuUsPerRequest: number;
}

export interface RunInput {
  users: SeededUser[];
  seedDir: string;
  concurrency: number;
  warmup: number;
  requests: number;
  repeat: number;
}

export async function runOnce(config: RunConfig, input: RunInput): Promise<RunResult> {
  const server = await startTarget(config, input);
  const client = createVerifyClient(config.protocol, server.url, input.concurrency, adminToken(input.seedDir));
  try {
    // Users [0, warmup) warm up, the next `requests` are timed; each user is verified once per run.
    const call = (index: number) => {
      const user = input.users[index] as SeededUser;
      const code = config.workload === "wrong-code" ? wrongCode(user.phoneCode) : user.phoneCode;
      return client.verifyPhone(user.userId, code);
    };
    await runLoad(input.warmup, input.concurrency, call);
    const cpuBefore = server.cpuSeconds();
    const load = await runLoad(input.requests, input.concurrency, call, input.warmup);
    const serverCpuSeconds = server.cpuSeconds() - cpuBefore;
    const expected = config.workload === "wrong-code" ? "code 3" : "ok";
    return {
      ...config,
      repeat: input.repeat,
      requests: input.requests,
      seconds: load.seconds,
      reqPerSec: input.requests / load.seconds,
      p50Ms: percentile(load.latenciesMs, 50),
      p99Ms: percentile(load.latenciesMs, 99),
      errors: input.requests - (load.outcomes[expected] ?? 0),
      outcomes: load.outcomes,
      peakRssMiB: server.peakRssMiB(),
      serverCpuUsPerRequest: (serverCpuSeconds * 1e6) / input.requests,
      clientCpuUsPerRequest: (load.clientCpuSeconds * 1e6) / input.requests,
    };
  } finally {
    // Server first: its graceful close ends the client's HTTP/2 session with GOAWAY, where a client-side abort would
    // reset it (CANCEL) and make verifyd log a connection error.
    await server.stop();
    client.close();
  }
}

function startTarget(config: RunConfig, input: RunInput): Promise<ServerProcess> {
  if (config.target === "verifyd") {
    const dataDir = copyDataDir(input.seedDir, join(benchDir, "runs", `${config.protocol}-${config.workload}`));
    return startVerifyd({ dataDir });
  }
  const kind = config.target === "h2 canned" ? "h2" : "h1";
  return startServerProcess({ script: "bench/canned-servers.ts", args: [kind, "{port}"] });
}

/** Another code of the same length and alphabet, so the request passes validation and is a real HMAC mismatch. */
function wrongCode(code: string): string {
  const last = Number(code.at(-1));
  return `${code.slice(0, -1)}${Number.isNaN(last) ? "0" : (last + 1) % 10}`;
}
