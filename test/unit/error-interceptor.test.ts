import { Code, ConnectError, type Interceptor, createClient, createRouterTransport } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { UserService } from "../../src/gen/zitadel/user/v2/user_service_pb.js";
import { createLogger } from "../../src/logger.js";
import { createErrorInterceptor } from "../../src/api/error-interceptor.js";
import { requestContextKey } from "../../src/api/request-context.js";

describe("unexpected exceptions", () => {
  it("reach the caller as Internal with a generic message and are logged with the request id", async () => {
    const lines: string[] = [];
    const withRequestContext: Interceptor = (next) => (req) => {
      req.contextValues.set(requestContextKey, {
        requestId: "req-42",
        protocol: "connect",
        peer: { address: "127.0.0.1", port: 1 },
        headers: new Headers(),
      });
      return next(req);
    };
    const transport = createRouterTransport(
      (router) =>
        router.service(UserService, {
          getUserByID() {
            throw new Error("database is on fire: SELECT * FROM users");
          },
        }),
      { router: { interceptors: [withRequestContext, createErrorInterceptor(createLogger("info", (line) => lines.push(line)))] } },
    );
    const error = await createClient(UserService, transport)
      .getUserByID({ userId: "1" })
      .then(() => undefined, (reason: unknown) => ConnectError.from(reason));
    expect(error?.code).toBe(Code.Internal);
    expect(error?.rawMessage).toBe("Internal error; request id req-42");
    expect(error?.rawMessage).not.toContain("fire");
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] ?? "{}")).toMatchObject({
      level: "error",
      requestId: "req-42",
      method: "GetUserByID",
      error: { message: "database is on fire: SELECT * FROM users" },
    });
  });
});
