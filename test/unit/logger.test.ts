// The log line's shape (the fields tests and operators parse), its levels and the redaction on the way out.
import { describe, expect, it } from "vitest";
import { type LogLevel, createLogger } from "../../src/logger.js";

function capture(level: LogLevel) {
  const lines: string[] = [];
  const logger = createLogger(level, (line) => lines.push(line));
  return { logger, lines, parsed: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>) };
}

describe("the logger", () => {
  it("writes one JSON line per entry with time, level name, fields and message", () => {
    const { logger, lines, parsed } = capture("debug");
    logger.info("verifyd listening", { url: "http://127.0.0.1:8080", count: 3 });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/\n$/);
    expect(parsed()[0]).toEqual({ time: expect.any(String), level: "info", message: "verifyd listening", url: "http://127.0.0.1:8080", count: 3 });
    expect(new Date(parsed()[0]?.time as string).toISOString()).toBe(parsed()[0]?.time);
  });

  it("writes the levels at and above its own", () => {
    const { logger, parsed } = capture("warn");
    logger.debug("d");
    logger.info("i");
    logger.warn("w");
    logger.error("e");
    expect(parsed().map((line) => [line.level, line.message])).toEqual([
      ["warn", "w"],
      ["error", "e"],
    ]);
    const silent = capture("silent");
    silent.logger.error("e");
    expect(silent.lines).toEqual([]);
  });

  it("redacts fields and the message, and takes the message literally", () => {
    const { logger, parsed } = capture("info");
    logger.warn("no user +41791234567 (100%s)", { password: "correct horse", phone: "+41791234567" });
    expect(parsed()[0]).toMatchObject({ message: "no user +******67 (100%s)", password: "[redacted]", phone: "+******67" });
  });
});
