// Starts the real server as a child process (`node --import tsx src/main.ts ...`, as `npm start` does, or another
// command), so that tests can restart it, run two of them on one database file, and read what it prints on stdout
// and stderr. Calls authenticate with the administrator's token from the admin token file the first start wrote.
import { type ChildProcess, spawn } from "node:child_process";
import { EventEmitter } from "node:events";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach } from "vitest";
import { settings } from "../../src/config.js";

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

export interface ServerProcess {
  /** http:// or https:// with the port the child bound. */
  url: string;
  /** Where the server keeps its bootstrap administrator's token. */
  adminTokenFile: string;
  /** The bootstrap administrator's (IAM_OWNER) bearer token. */
  adminToken: string;
  child: ChildProcess;
  /** Complete lines the child wrote so far (a trailing partial line is added when the stream ends). */
  stdout: string[];
  stderr: string[];
  /** Settles when the child has exited. */
  exited: Promise<ProcessExit>;
  /** Resolves with the first stdout line (already written or still to come) that satisfies the predicate. */
  waitForStdout(predicate: (line: string) => boolean, timeoutMs?: number): Promise<string>;
  /** SIGTERM, then waits for the exit (SIGKILL if it does not come within killAfterMs). */
  stop(killAfterMs?: number): Promise<ProcessExit>;
}

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface FinishedProcess extends ProcessExit {
  stdout: string[];
  stderr: string[];
}

export interface ServerProcessOptions {
  /** Flags after the defaults (`--port 0 --database <file> --log-level info --shutdown-delay 0s`); later flags win. */
  args?: string[];
  /** Extra environment; the settings' own variables (PORT, VERIFYD_*, ...) are removed from the inherited one. */
  env?: NodeJS.ProcessEnv;
  /**
   * The program and its first arguments, which the flags follow: `node --import tsx src/main.ts` by default, or e.g.
   * `node dist/main.js`, or `npm start --`.
   */
  command?: string[];
  /** The child's working directory, where relative paths lead: the repository by default. */
  cwd?: string;
  /** How long the child may take to print "verifyd listening". */
  startTimeoutMs?: number;
  /**
   * Ignore SIGXFSZ, so that a file-size limit set on the child later (`prlimit --pid`) makes its writes fail with
   * EFBIG, as on a full disk, instead of killing it. The ignored disposition survives the exec into node.
   */
  ignoreFileSizeSignal?: boolean;
  /** Expect no admin token file (a database bootstrapped elsewhere): `adminToken` is then "". */
  withoutAdminToken?: boolean;
}

type SpawnOptions = Pick<ServerProcessOptions, "env" | "ignoreFileSizeSignal" | "command" | "cwd">;

/** Every child spawned here that has not exited yet, also those still starting or expected to fail. */
const running = new Set<{ child: ChildProcess; exited: Promise<ProcessExit> }>();
// Last resort if the test worker goes away with children left (a hard timeout): never leave servers behind.
process.once("exit", () => {
  for (const { child } of running) child.kill("SIGKILL");
});

/** Starts the server on `database` and resolves once it listens; rejects with its stderr if it exits first. */
export async function startServerProcess(database: string, options: ServerProcessOptions = {}): Promise<ServerProcess> {
  const { child, stdout, stderr, exited, lines } = spawnServer(database, options.args ?? [], options);
  const startTimeoutMs = options.startTimeoutMs ?? 30_000;

  const stop = (killAfterMs = 10_000) => terminate(child, exited, killAfterMs);

  const url = await new Promise<string>((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(() => {
      cleanup();
      child.kill("SIGKILL");
      reject(new Error(`verifyd did not start within ${startTimeoutMs} ms; stderr:\n${stderr.join("\n")}`));
    }, startTimeoutMs);
    const onLine = (stream: "stdout" | "stderr", line: string) => {
      if (stream !== "stderr") return;
      const url = listeningUrl(line);
      if (url === undefined) return;
      cleanup();
      resolve(url);
    };
    // After "close", so that the error carries all of stderr.
    void exited.then(({ code, signal }) => {
      if (settled) return;
      cleanup();
      reject(new Error(`verifyd ${(options.args ?? []).join(" ")} exited before listening (code ${code}, signal ${signal}); stderr:\n${stderr.join("\n")}`));
    });
    const cleanup = () => {
      settled = true;
      clearTimeout(timer);
      lines.off("line", onLine);
    };
    lines.on("line", onLine);
    // The line may already be there if the streams were read before the listeners were added.
    for (const line of stderr) onLine("stderr", line);
  });

  const adminTokenFile = announcedAdminTokenFile(stderr) ?? adminTokenFileOf(database, options);
  let adminToken: string;
  try {
    adminToken = options.withoutAdminToken ? "" : readFileSync(adminTokenFile, "utf8").trim();
  } catch (error) {
    // A server that listens but whose token file is elsewhere must not outlive the failed start.
    await stop();
    throw error;
  }
  return {
    url,
    adminTokenFile,
    adminToken,
    child,
    stdout,
    stderr,
    exited,
    stop,
    waitForStdout: (predicate, timeoutMs = 10_000) =>
      new Promise<string>((resolve, reject) => {
        const already = stdout.find(predicate);
        if (already !== undefined) return resolve(already);
        const timer = setTimeout(() => {
          lines.off("line", onLine);
          reject(new Error(`no matching stdout line within ${timeoutMs} ms; stdout:\n${stdout.join("\n")}`));
        }, timeoutMs);
        const onLine = (stream: "stdout" | "stderr", line: string) => {
          if (stream !== "stdout" || !predicate(line)) return;
          clearTimeout(timer);
          lines.off("line", onLine);
          resolve(line);
        };
        lines.on("line", onLine);
      }),
  };
}

/** Runs the server with flags that should make it exit by itself (bad configuration); kills it if it starts. */
export async function runServerProcessToExit(
  database: string,
  args: string[],
  options: SpawnOptions & { timeoutMs?: number } = {},
): Promise<FinishedProcess> {
  const { child, stdout, stderr, exited } = spawnServer(database, args, options);
  const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 30_000);
  try {
    const exit = await exited;
    return { ...exit, stdout, stderr };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * For a test file of server processes: stops the children after each test (even a failed one) and removes the data
 * directories after the file. Returns a maker of fresh data directories.
 */
export function serverProcessDirectories(prefix: string): () => string {
  const directories: string[] = [];
  afterEach(stopAllServerProcesses);
  afterAll(() => {
    for (const directory of directories) rmSync(directory, { recursive: true, force: true });
  });
  return () => {
    const directory = mkdtempSync(join(tmpdir(), prefix));
    directories.push(directory);
    return directory;
  };
}

/** For afterEach/afterAll: stops every child started here that is still running, even after a failed test. */
export async function stopAllServerProcesses(): Promise<void> {
  await Promise.all([...running].map(({ child, exited }) => terminate(child, exited, 5_000)));
}

async function terminate(child: ChildProcess, exited: Promise<ProcessExit>, killAfterMs: number): Promise<ProcessExit> {
  if (child.exitCode !== null || child.signalCode !== null) return exited;
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), killAfterMs);
  try {
    return await exited;
  } finally {
    clearTimeout(timer);
  }
}

function spawnServer(database: string, args: string[], options: SpawnOptions) {
  const command = [
    // Resolved here, so that the child finds them from any working directory.
    ...(options.command ?? [process.execPath, "--import", import.meta.resolve("tsx"), join(repoRoot, "src/main.ts")]),
    ...["--port", "0", "--database", database, "--log-level", "info"],
    // No load balancer to wait for: a stop takes only as long as the calls in flight.
    ...["--shutdown-delay", "0s", ...args],
  ];
  // `exec` keeps the pid, so the child's pid is node's.
  const [file, ...argv] = options.ignoreFileSizeSignal ? ["sh", "-c", 'trap "" XFSZ; exec "$@"', "sh", ...command] : command;
  const child = spawn(file as string, argv, {
    cwd: options.cwd ?? repoRoot,
    env: childEnv(options.env),
    stdio: ["ignore", "pipe", "pipe"],
  });
  const stdout: string[] = [];
  const stderr: string[] = [];
  const lines = new EventEmitter<{ line: [stream: "stdout" | "stderr", line: string] }>();
  splitLines(child.stdout!, (line) => {
    stdout.push(line);
    lines.emit("line", "stdout", line);
  });
  splitLines(child.stderr!, (line) => {
    stderr.push(line);
    lines.emit("line", "stderr", line);
  });
  // "close" rather than "exit": by then both pipes are drained, so stdout and stderr are complete.
  const exited = new Promise<ProcessExit>((resolve) => {
    child.once("close", (code, signal) => resolve({ code, signal }));
    child.once("error", () => resolve({ code: child.exitCode, signal: child.signalCode }));
  });
  const entry = { child, exited };
  running.add(entry);
  void exited.then(() => running.delete(entry));
  return { child, stdout, stderr, exited, lines };
}

function splitLines(stream: NodeJS.ReadableStream, onLine: (line: string) => void): void {
  let pending = "";
  stream.setEncoding("utf8");
  stream.on("data", (chunk: string) => {
    pending += chunk;
    let newline: number;
    while ((newline = pending.indexOf("\n")) !== -1) {
      onLine(pending.slice(0, newline).replace(/\r$/, ""));
      pending = pending.slice(newline + 1);
    }
  });
  stream.on("end", () => {
    if (pending !== "") onLine(pending);
    pending = "";
  });
}

/** Where the server says the token is, in its "instance bootstrapped" or "instance already bootstrapped" line. */
function announcedAdminTokenFile(stderr: readonly string[]): string | undefined {
  for (const line of stderr) {
    if (!line.includes("bootstrapped")) continue;
    const { message, file } = JSON.parse(line) as { message?: string; file?: string };
    if (message?.startsWith("instance") && file !== undefined) return file;
  }
  return undefined;
}

/** As the server resolves it: the flag, else the variable, else next to the database. */
export function adminTokenFileOf(database: string, options: Pick<ServerProcessOptions, "args" | "env"> = {}): string {
  const args = options.args ?? [];
  const flagAt = args.lastIndexOf("--admin-token-file");
  return (flagAt === -1 ? undefined : args[flagAt + 1]) ?? options.env?.ADMIN_TOKEN_FILE ?? join(dirname(database), "admin-token");
}

/** This process's environment without the settings' own variables (PORT, VERIFYD_*, ...), plus `extra`. */
export function childEnv(extra: NodeJS.ProcessEnv | undefined): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const setting of Object.values(settings)) delete env[setting.env];
  return { ...env, ...extra };
}

/** The url from the `{"message":"verifyd listening","url":...}` log line, if this is that line. */
function listeningUrl(line: string): string | undefined {
  if (!line.includes("verifyd listening")) return undefined;
  try {
    const entry = JSON.parse(line) as { message?: unknown; url?: unknown };
    return entry.message === "verifyd listening" && typeof entry.url === "string" ? entry.url : undefined;
  } catch {
    return undefined;
  }
}
