// Structured JSON lines through pino, on stderr: `time` (ISO 8601), `level` (its name), the fields, `message`.
// Every line passes the redaction (redaction.ts) on its way out, fields and message alike, so that a call site cannot
// leak a secret or a full phone number. A line written on behalf of a call names the call's `requestId` among its
// fields (call-scope.ts says why it is not added by itself).
import pino, { type DestinationStream } from "pino";
import { redactFields, redactText } from "./redaction.js";

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export type LogLevel = "debug" | "info" | "warn" | "error" | "silent";

/** `write` receives each line, newline included (tests); by default lines go to stderr, written synchronously. */
export function createLogger(level: LogLevel, write?: (line: string) => void): Logger {
  // Synchronous, so that the last lines before process.exit (a shutdown, a refused start) are not lost.
  const destination: DestinationStream = write ? { write } : pino.destination({ dest: 2, sync: true });
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
