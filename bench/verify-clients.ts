// One VerifyPhone call per protocol, as real clients make it. The same code drives verifyd and the canned servers,
// so client-side costs (framing, JSON, connection handling) cancel out in the ratio to the ceiling.
import http from "node:http";
import { ConnectError, type Interceptor, type Transport, createClient } from "@connectrpc/connect";
import { Http2SessionManager, createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { UserService } from "../src/gen/zitadel/user/v2/user_service_pb.js";

export type Protocol = "grpc" | "connect" | "rest";

/** "ok", or the gRPC status code the call failed with ("code 3"); for REST also "network: ..." without an answer. */
export type Outcome = string;

export interface VerifyClient {
  verifyPhone(userId: string, verificationCode: string): Promise<Outcome>;
  close(): void;
}

export const describeProtocol: Record<Protocol, string> = {
  grpc: "gRPC (h2c, 1 session)",
  connect: "Connect JSON (HTTP/1.1)",
  rest: "REST JSON (HTTP/1.1)",
};

/** Sends `authorization: Bearer <token>` with every call. */
export function withBearer(token: string): Interceptor {
  return (next) => (req) => {
    req.header.set("authorization", `Bearer ${token}`);
    return next(req);
  };
}

/** Every call carries the token; the canned servers ignore it, so it costs the same on both sides of the ratio. */
export function createVerifyClient(protocol: Protocol, baseUrl: string, concurrency: number, token: string): VerifyClient {
  const interceptors = [withBearer(token)];
  if (protocol === "grpc") {
    // One HTTP/2 session that all calls share, as a gRPC client keeps it.
    const sessionManager = new Http2SessionManager(baseUrl);
    return rpcClient(createGrpcTransport({ baseUrl, sessionManager, interceptors }), () => sessionManager.abort());
  }
  // HTTP/1.1 carries one call per connection at a time: one kept-alive socket per in-flight call.
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  if (protocol === "rest") return restClient(baseUrl, agent, token);
  const json = { httpVersion: "1.1", useBinaryFormat: false } as const;
  const transport = createConnectTransport({ baseUrl, ...json, nodeOptions: { agent }, interceptors });
  return rpcClient(transport, () => agent.destroy());
}

function rpcClient(transport: Transport, close: () => void): VerifyClient {
  const client = createClient(UserService, transport);
  return {
    async verifyPhone(userId, verificationCode) {
      try {
        await client.verifyPhone({ userId, verificationCode });
        return "ok";
      } catch (error) {
        // Without an answer from the server (refused, reset), connect-node reports Unavailable: code 14.
        return `code ${ConnectError.from(error).code}`;
      }
    },
    close,
  };
}

/** ZITADEL's REST route; errors come back as google.rpc.Status JSON, whose `code` is the gRPC code. */
function restClient(baseUrl: string, agent: http.Agent, token: string): VerifyClient {
  const { hostname, port } = new URL(baseUrl);
  return {
    verifyPhone(userId, verificationCode) {
      const body = JSON.stringify({ verificationCode });
      return new Promise<Outcome>((resolve) => {
        const req = http.request(
          {
            agent,
            hostname,
            port,
            method: "POST",
            path: `/v2/users/${encodeURIComponent(userId)}/phone/verify`,
            headers: {
              authorization: `Bearer ${token}`,
              "content-type": "application/json",
              "content-length": Buffer.byteLength(body),
            },
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on("data", (chunk: Buffer) => chunks.push(chunk));
            res.on("end", () => resolve(restOutcome(res.statusCode ?? 0, Buffer.concat(chunks))));
            res.on("error", (error) => resolve(`network: ${error.message}`));
          },
        );
        req.on("error", (error) => resolve(`network: ${error.message}`));
        req.end(body);
      });
    },
    close: () => agent.destroy(),
  };
}

function restOutcome(status: number, body: Buffer): Outcome {
  try {
    // Parsed on success too, as a client would: it costs the same against verifyd and against the ceiling.
    const answer = JSON.parse(body.toString("utf8")) as { code?: number };
    return status === 200 ? "ok" : `code ${answer.code ?? `missing (http ${status})`}`;
  } catch {
    return `http ${status} with a body that is not JSON`;
  }
}
