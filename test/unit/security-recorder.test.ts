// Each event goes to the server's log too, redacted. Recording serves the call: a log that cannot be written is a
// warning, never a failed or changed answer.
import { describe, expect, it } from "vitest";
import { createSecurityRecorder } from "../../src/api/security-recorder.js";
import { errors } from "../../src/domain/errors.js";
import type { SecurityEventInput } from "../../src/domain/security/security-event.js";
import { createLogger } from "../../src/logger.js";

const clock = { now: () => new Date(Date.UTC(2026, 0, 1)) };
const failingLog = {
  record: async () => {
    throw errors.storageUnavailable();
  },
};

describe("the security recorder", () => {
  it("records at the clock's time", async () => {
    const recorded: [SecurityEventInput, Date][] = [];
    const log = { record: async (event: SecurityEventInput, at: Date) => void recorded.push([event, at]) };
    const record = createSecurityRecorder({ log, clock, logger: createLogger("silent") });
    await record({ kind: "token.created", userId: "u1", detail: { tokenId: "t1" } });
    expect(recorded).toEqual([[{ kind: "token.created", userId: "u1", detail: { tokenId: "t1" } }, clock.now()]]);
  });

  it("logs each event, refusals as warnings and the rest as information, with numbers and addresses masked", async () => {
    const lines: string[] = [];
    const log = { record: async () => undefined };
    const record = createSecurityRecorder({ log, clock, logger: createLogger("info", (line) => lines.push(line)) });
    await record({ kind: "login.failed", clientAddress: "192.0.2.7", detail: { loginName: "+41791234567", reason: "PASSWORD_INVALID" } });
    await record({ kind: "token.created", actorId: "u0", userId: "u1", detail: { tokenId: "t1" } });
    expect(lines.map((line) => JSON.parse(line))).toEqual([
      expect.objectContaining({
        level: "warn",
        message: "security event",
        kind: "login.failed",
        clientAddress: "192.0.2.7",
        detail: { loginName: "+******67", reason: "PASSWORD_INVALID" },
      }),
      expect.objectContaining({ level: "info", message: "security event", kind: "token.created", actorId: "u0", userId: "u1" }),
    ]);
    expect(lines.join("")).not.toContain("791234567");
  });

  it("names the request id of the call the event happened in, in both of its lines", async () => {
    const lines: string[] = [];
    const record = createSecurityRecorder({ log: failingLog, clock, logger: createLogger("info", (line) => lines.push(line)) });
    await record({ kind: "code.failed", userId: "u1", detail: {} }, "req-7");
    expect(lines.map((line) => JSON.parse(line).requestId)).toEqual(["req-7", "req-7"]);
  });

  it("writes only the log line of an event committed already with the change that refused the call", async () => {
    const recorded: SecurityEventInput[] = [];
    const lines: string[] = [];
    const log = { record: async (event: SecurityEventInput) => void recorded.push(event) };
    const record = createSecurityRecorder({ log, clock, logger: createLogger("info", (line) => lines.push(line)) });
    await record({ kind: "code.failed", userId: "u1", detail: { channel: "phone" } }, "req-8", true);
    expect(recorded).toEqual([]);
    expect(lines.map((line) => JSON.parse(line))).toEqual([
      expect.objectContaining({ level: "warn", message: "security event", kind: "code.failed", requestId: "req-8" }),
    ]);
  });

  it("turns a failed write into a warning naming the kind only, and never rejects", async () => {
    const lines: string[] = [];
    const record = createSecurityRecorder({ log: failingLog, clock, logger: createLogger("warn", (line) => lines.push(line)) });
    await expect(record({ kind: "login.failed", detail: { loginName: "ada" } })).resolves.toBeUndefined();
    expect(lines.map((line) => JSON.parse(line))).toEqual([
      expect.objectContaining({ level: "warn", message: "security event", kind: "login.failed" }),
      { level: "warn", time: expect.any(String), message: "security event not recorded", kind: "login.failed", error: expect.any(Object) },
    ]);
  });
});
