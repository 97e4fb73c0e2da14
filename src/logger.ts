// Structured JSON lines through pino, on stderr: `time` (ISO 8601), `level` (its name), the fields, `message`.
// Every line passes the redaction (redaction.ts) on its way out, fields and message alike, so that a call site cannot
// leak a secret or a full phone number. A line written on behalf of a call names the call's `requestId` among its
// fields (call-scope.ts says why it is not added by itself).
import { writeSync } from "node:fs";
import pino, { type DestinationStream } from "pino";
import { redactFields, redactText } from "./redaction.js";

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export type LogLevel = "debug" | "info" | "warn" | "error" | "silent";

/** `write` receives each line, newline included (tests); by default lines go to stderr (see stderrByTurn). */
export function createLogger(level: LogLevel, write?: (line: string) => void): Logger {
  const destination: DestinationStream = { write: write ?? stderrByTurn };
  const log = pino(
    {
      level,
      base: undefined,
      messageKey: "message",
      timestamp: timeField(),
      formatters: { level: (label) => ({ level: label }), log: redactFields },
    },
    destination,
  );
  const at =
    (name: Exclude<LogLevel, "silent">) =>
    (message: string, fields: Record<string, unknown> = {}) => {
      // Checked first: the redaction of a line that is not written would be wasted.
      if (log.isLevelEnabled(name)) log[name](fields, redactText(message));
    };
  return { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}

/** pino's `time` field, formatted once per millisecond: a loaded server writes several lines in each. */
function timeField(): () => string {
  let formattedAt = Number.NaN;
  let field = "";
  return () => {
    const now = Date.now();
    if (now !== formattedAt) {
      formattedAt = now;
      field = `,"time":"${new Date(now).toISOString()}"`;
    }
    return field;
  };
}

// The lines of one turn of the event loop, written to stderr together at its end: under load a turn answers dozens of
// calls, and a write per line was a system call per call on the event loop (README, performance, step 24). Written
// synchronously, in order, without a buffer that could grow; and on exit, so that the last lines before process.exit
// (a shutdown, a refused start) are not lost. A process killed outright loses one turn's lines.
let pendingLines: string[] = [];

function stderrByTurn(line: string): void {
  if (pendingLines.length === 0) setImmediate(writePendingLines);
  pendingLines.push(line);
}

function writePendingLines(): void {
  if (pendingLines.length === 0) return;
  const text = pendingLines.join("");
  pendingLines = [];
  writeAll(text);
}

function writeAll(text: string): void {
  let rest = Buffer.from(text);
  while (rest.length > 0) {
    try {
      rest = rest.subarray(writeSync(2, rest));
    } catch (error) {
      // Nowhere left to say so (stderr closed): the lines are dropped rather than the process ended.
      if ((error as NodeJS.ErrnoException).code !== "EAGAIN") return;
      // stderr as a non-blocking pipe whose reader is behind: wait for it, as a blocking write would have.
      Atomics.wait(waitCell, 0, 0, 10);
    }
  }
}

const waitCell = new Int32Array(new SharedArrayBuffer(4));
process.on("exit", writePendingLines);
