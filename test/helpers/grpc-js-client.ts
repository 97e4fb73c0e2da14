// A UserService client built the way a third party would build one: @grpc/grpc-js with @grpc/proto-loader reading
// our .proto contract at run time. Nothing here uses the code we generate or connect-node.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";

export const repoRoot = fileURLToPath(new URL("../..", import.meta.url));
export const userServiceProto = "zitadel/user/v2/user_service.proto";
export const protoIncludeDirs = [join(repoRoot, "proto"), join(repoRoot, "third_party")];

/** The files in third_party/ that the contract imports; `npm run protos:deps` writes them. */
const thirdPartyImports = [
  "google/api/annotations.proto",
  "google/api/http.proto",
  "google/api/field_behavior.proto",
  "buf/validate/validate.proto",
];

/** Throws a message that says what to do when `npm run protos:deps` has not filled third_party/. */
export function assertThirdPartyProtos(): void {
  const missing = thirdPartyImports.filter((path) => !existsSync(join(repoRoot, "third_party", path)));
  if (missing.length > 0) {
    throw new Error(
      `third_party/ lacks ${missing.join(", ")}, which ${userServiceProto} imports. ` +
        "Run `npm run protos:deps` (npm test does it before vitest) and try again.",
    );
  }
}

export function loadUserServiceClient(): grpc.ServiceClientConstructor {
  assertThirdPartyProtos();
  const definition = protoLoader.loadSync(userServiceProto, {
    includeDirs: protoIncludeDirs,
    keepCase: false,
    longs: String,
    enums: String,
    defaults: false,
    oneofs: true,
  });
  const loaded = grpc.loadPackageDefinition(definition) as unknown as {
    zitadel: { user: { v2: { UserService: grpc.ServiceClientConstructor } } };
  };
  return loaded.zitadel.user.v2.UserService;
}

export type GrpcResult<T = Record<string, unknown>> = { ok: true; response: T } | { ok: false; error: grpc.ServiceError };

/** Calls a unary method by its proto name (e.g. "VerifyPhone") and settles with the response or the status. */
export function callUnary<T = Record<string, unknown>>(
  client: grpc.Client,
  method: string,
  request: object,
): Promise<GrpcResult<T>> {
  const fn = (client as unknown as Record<string, unknown>)[method];
  if (typeof fn !== "function") throw new Error(`the loaded UserService has no method ${method}`);
  return new Promise((resolve) => {
    const options: grpc.CallOptions = { deadline: Date.now() + 15_000 };
    (fn as (req: object, md: grpc.Metadata, opts: grpc.CallOptions, cb: grpc.requestCallback<T>) => void).call(
      client,
      request,
      new grpc.Metadata(),
      options,
      (error, response) => resolve(error ? { ok: false, error } : { ok: true, response: response as T }),
    );
  });
}

/** Sends raw bytes to any path, as a generic client does for a method it has no stub for. */
export function callRawUnary(client: grpc.Client, path: string, body: Uint8Array): Promise<GrpcResult<Buffer>> {
  return new Promise((resolve) => {
    client.makeUnaryRequest<Buffer, Buffer>(
      path,
      (value) => value,
      (value) => value,
      Buffer.from(body),
      new grpc.Metadata(),
      { deadline: Date.now() + 15_000 },
      (error, response) => resolve(error ? { ok: false, error } : { ok: true, response: response as Buffer }),
    );
  });
}

export { grpc };

/** Sends `authorization: Bearer <token>` with every call, as a grpc-js client of a bearer-token API does. */
export function bearerInterceptor(token: string): grpc.Interceptor {
  return (options, nextCall) =>
    new grpc.InterceptingCall(nextCall(options), {
      start(metadata, listener, next) {
        metadata.set("authorization", `Bearer ${token}`);
        next(metadata, listener);
      },
    });
}
