// How a call ends, as the one interceptor reports it: the client's answer, the domain outcome, the security log, the
// access line's record and the call metrics, for a success, a refusal and an unexpected exception. Through
// connect-es's in-memory router and a real client; the observers record what they were given.
import { Code, ConnectError, type Interceptor, type ServiceImpl, createClient, createRouterTransport } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { createCallEndInterceptor } from "../../src/api/call-end-interceptor.js";
import { principalKey, requestContextKey } from "../../src/api/request-context.js";
import type { SecurityRecorder } from "../../src/api/security-recorder.js";
import { createSecurityRecorder } from "../../src/api/security-recorder.js";
import type { CallRecord } from "../../src/call-scope.js";
import { type DomainError, errors } from "../../src/domain/errors.js";
import type { SecurityEventInput } from "../../src/domain/security/security-event.js";
import { UserService } from "../../src/gen/zitadel/user/v2/user_service_pb.js";
import { createLogger } from "../../src/logger.js";
import type { CallLabels } from "../../src/metrics/call-metrics.js";

function harness(implementation: Partial<ServiceImpl<typeof UserService>>, recordSecurityEvent?: SecurityRecorder) {
  const lines: string[] = [];
  const outcomes: [string, DomainError | undefined][] = [];
  const observed: CallLabels[] = [];
  const security: [SecurityEventInput, string | undefined, boolean | undefined][] = [];
  const record: CallRecord = { requestId: "req-42", protocol: "connect", clientAddress: "127.0.0.1" };
  const withCallerAndRecord: Interceptor = (next) => (req) => {
    req.contextValues.set(requestContextKey, {
      requestId: "req-42",
      protocol: "connect",
      peer: { address: "127.0.0.1", port: 1 },
      headers: new Headers(),
      header: () => undefined,
      call: record,
    });
    req.contextValues.set(principalKey, { userId: "caller-1", organizationId: "o1", instanceRoles: [], organizationRoles: new Map() });
    return next(req);
  };
  const interceptor = createCallEndInterceptor({
    metrics: { observe: (labels) => void observed.push(labels) },
    observeOutcome: (method, error) => void outcomes.push([method, error]),
    recordSecurityEvent: recordSecurityEvent ?? (async (event, requestId, stored) => void security.push([event, requestId, stored])),
    existingTargets: async (event) => event,
    logger: createLogger("info", (line) => lines.push(line)),
  });
  const transport = createRouterTransport((router) => router.service(UserService, implementation), {
    router: { interceptors: [withCallerAndRecord, interceptor] },
  });
  const client = createClient(UserService, transport);
  return { client, lines, outcomes, observed, security, record };
}

const failure = (reason: unknown) => ConnectError.from(reason);
const labels = (code: string) => ({ service: "zitadel.user.v2.UserService", method: "LockUser", protocol: "connect", code });

describe("the end of a call", () => {
  it("of a success: the outcome without an error, the access record and the metrics say ok", async () => {
    const { client, outcomes, observed, security, record } = harness({ lockUser: () => ({ details: { sequence: 1n } }) });
    expect((await client.lockUser({ userId: "u1" })).details?.sequence).toBe(1n);
    expect(outcomes).toEqual([["LockUser", undefined]]);
    expect(security).toEqual([]);
    expect(record).toMatchObject({ rpc: "zitadel.user.v2.UserService/LockUser", callerId: "caller-1", code: "ok" });
    expect(observed).toEqual([labels("ok")]);
  });

  it("of a refusal: its wire form for the client, its domain error for the outcome, its security outcome recorded", async () => {
    const refusal = errors.permissionDenied("user.write");
    const { client, outcomes, observed, security, record } = harness({
      lockUser() {
        throw refusal;
      },
    });
    const error = await client.lockUser({ userId: "u1" }).then(() => undefined, failure);
    expect(error?.code).toBe(Code.PermissionDenied);
    expect(error?.rawMessage).toBe("No matching permissions found (AUTH-AWfge)");
    expect(outcomes).toEqual([["LockUser", refusal]]);
    expect(security).toEqual([
      [expect.objectContaining({ kind: "permission.denied", actorId: "caller-1", userId: "u1" }), "req-42", false],
    ]);
    expect(record.code).toBe("permission_denied");
    expect(observed).toEqual([labels("permission_denied")]);
  });

  it("of a refusal whose security outcomes were committed with it: only their lines are written", async () => {
    const refusal = errors.permissionDenied("user.write");
    refusal.loggedSecurityEvents = [{ kind: "code.failed", userId: "u1", detail: { channel: "phone" } }];
    const { client, security } = harness({
      lockUser() {
        throw refusal;
      },
    });
    await client.lockUser({ userId: "u1" }).then(() => undefined, failure);
    expect(security).toEqual([[{ kind: "code.failed", userId: "u1", detail: { channel: "phone" } }, "req-42", true]]);
  });

  it("of an unexpected exception: Internal with a generic message, logged with the request id", async () => {
    const { client, lines, outcomes, observed, record } = harness({
      lockUser() {
        throw new Error("database is on fire: SELECT * FROM users");
      },
    });
    const error = await client.lockUser({ userId: "1" }).then(() => undefined, failure);
    expect(error?.code).toBe(Code.Internal);
    expect(error?.rawMessage).toBe("Internal error; request id req-42");
    expect(error?.rawMessage).not.toContain("fire");
    expect(lines.map((line) => JSON.parse(line))).toEqual([
      expect.objectContaining({
        level: "error",
        requestId: "req-42",
        method: "LockUser",
        error: expect.objectContaining({ message: "database is on fire: SELECT * FROM users" }),
      }),
    ]);
    expect(outcomes).toEqual([]);
    expect(record.code).toBe("internal");
    expect(observed).toEqual([labels("internal")]);
  });

  it("leaves a refusal's answer as it was when the security log cannot be written", async () => {
    const failingLog = {
      record: async () => {
        throw errors.storageUnavailable();
      },
    };
    const record = createSecurityRecorder({ log: failingLog, clock: { now: () => new Date(0) }, logger: createLogger("silent") });
    const { client } = harness(
      {
        lockUser() {
          throw errors.permissionDenied("user.write");
        },
      },
      record,
    );
    const error = await client.lockUser({ userId: "u1" }).then(() => undefined, failure);
    expect(error?.code).toBe(Code.PermissionDenied);
    expect(error?.rawMessage).toBe("No matching permissions found (AUTH-AWfge)");
  });
});
