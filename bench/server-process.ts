// A server under test in its own process: started on a port chosen here, ready once it accepts TCP connections,
// and measured from /proc (peak RSS, CPU time) so the figures are the server's alone, not the load generator's.
import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, existsSync, openSync, readFileSync, rmSync } from "node:fs";
import net from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { HeapTotals } from "./in-server/heap-meter.js";

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..");

export interface ServerProcess {
  url: string;
  pid: number;
  /** VmHWM: the highest resident set size since the process started. */
  peakRssMiB(): number;
  /** User + system CPU time the process has used so far. */
  cpuSeconds(): number;
  /** What V8's collector has seen in the process so far; only for a process started with `heapMeter`. */
  heapTotals(): Promise<HeapTotals>;
  /** SIGTERM (a graceful shutdown, which also writes a --cpu-prof profile), SIGKILL after killAfterMs. */
  stop(killAfterMs?: number): Promise<void>;
}

export interface ServerSpec {
  /** A compiled script and its arguments, run by node from the repository root; "{port}" becomes the chosen port. */
  args: string[];
  /** Flags for node itself, e.g. --cpu-prof. */
  nodeFlags?: string[];
  /** The process's whole environment. */
  env?: NodeJS.ProcessEnv;
  /** Receives the server's stdout and stderr; its end is shown when the server does not come up. */
  logFile: string;
  /** The compiled bench/in-server/heap-meter.js, to load into the process so that `heapTotals` can ask it. */
  heapMeter?: string;
}

export async function startServerProcess(spec: ServerSpec): Promise<ServerProcess> {
  const port = await freePort();
  const args = spec.args.map((arg) => arg.replace("{port}", String(port)));
  const log = openSync(spec.logFile, "w");
  const heapFile = spec.logFile.replace(/\.log$/, "") + ".heap.jsonl";
  rmSync(heapFile, { force: true });
  const meter = spec.heapMeter ? { flags: ["--import", spec.heapMeter], env: { BENCH_HEAP_METER_FILE: heapFile } } : { flags: [], env: {} };
  const child = spawn(process.execPath, [...meter.flags, ...(spec.nodeFlags ?? []), ...args], {
    cwd: repoRoot,
    env: { ...(spec.env ?? process.env), ...meter.env },
    stdio: ["ignore", log, log],
  });
  closeSync(log);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  try {
    await waitUntilListening(port, child);
  } catch (error) {
    const tail = readFileSync(spec.logFile, "utf8").trim().split("\n").slice(-10).join("\n");
    throw new Error(`${(error as Error).message}; the end of ${spec.logFile}:\n${tail}`);
  }
  const pid = child.pid as number;
  return {
    url: `http://127.0.0.1:${port}`,
    pid,
    peakRssMiB: () => Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]) / 1024,
    cpuSeconds: () => {
      const seconds = processCpuSeconds(pid);
      if (seconds === undefined) throw new Error(`server process ${pid} has ended`);
      return seconds;
    },
    async heapTotals() {
      if (!spec.heapMeter) throw new Error(`server process ${pid} was started without the heap meter`);
      const linesBefore = linesOf(heapFile).length;
      child.kill("SIGUSR2");
      for (const deadline = Date.now() + 5_000; Date.now() < deadline; ) {
        const answer = linesOf(heapFile)[linesBefore];
        if (answer) return JSON.parse(answer) as HeapTotals;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      throw new Error(`server process ${pid}: its heap meter did not answer within 5 s`);
    },
    async stop(killAfterMs = 10_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), killAfterMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

function linesOf(file: string): string[] {
  return existsSync(file) ? readFileSync(file, "utf8").split("\n").filter(Boolean) : [];
}

/** User + system CPU time process `pid` has used so far, from /proc; undefined once it has ended. */
export function processCpuSeconds(pid: number): number | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  // Fields after the command name, which is in parentheses and may itself contain spaces.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // utime and stime (fields 14 and 15 of the whole line) in USER_HZ ticks, which Linux fixes at 100 per second.
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** The kernel picks a free port; the race until the child binds it is harmless on a bench machine. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

/** Readiness is a TCP connect that succeeds: every server under test listens only once it can answer. */
async function waitUntilListening(port: number, child: ChildProcess, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`server process exited early (${child.exitCode ?? child.signalCode})`);
    }
    const connected = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, "127.0.0.1");
      socket.once("connect", () => {
        socket.end();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
    if (connected) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  child.kill("SIGKILL");
  throw new Error(`server process did not listen on port ${port} within ${timeoutMs} ms`);
}
