// Runs an external program asynchronously, so that an in-process server can keep answering while it runs, and
// hands back its exit code and output instead of throwing on a non-zero exit.
import { execFile } from "node:child_process";

export interface CommandResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  cwd?: string;
  /** Kills the program after this long; a killed program is an error, not a result. */
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

export function runCommand(file: string, args: string[], options: RunOptions = {}): Promise<CommandResult> {
  const { cwd, timeoutMs = 20_000, env } = options;
  return new Promise((resolve, reject) => {
    execFile(
      file,
      args,
      { cwd, env: env ?? process.env, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024, encoding: "utf8" },
      (error, stdout, stderr) => {
        if (!error) return resolve({ exitCode: 0, stdout, stderr });
        if (typeof error.code === "number" && !error.killed) return resolve({ exitCode: error.code, stdout, stderr });
        const why = error.killed
          ? `was killed (${error.signal ?? "timeout"} after ${timeoutMs} ms)`
          : `failed: ${error.message}`;
        reject(new Error(`${file} ${args.join(" ")} ${why}\nstdout: ${stdout}\nstderr: ${stderr}`));
      },
    );
  });
}
