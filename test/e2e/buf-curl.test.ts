// An independent client in another language: `buf curl` (Go, connect-go) reading our .proto contract, over Connect,
// gRPC (h2c) and gRPC-Web. Its exit code is 8 × the RPC code on failure, and it prints the error as JSON whose
// details we decode with our own schemas.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { type DescMessage, type MessageShape, fromBinary } from "@bufbuild/protobuf";
import { base64Decode } from "@bufbuild/protobuf/wire";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BadRequestSchema, ErrorInfoSchema } from "../../src/gen/google/rpc/error_details_pb.js";
import { ErrorDetailSchema } from "../../src/gen/zitadel/v1/error_detail_pb.js";
import { assertThirdPartyProtos, repoRoot } from "../helpers/grpc-js-client.js";
import { type CommandResult, runCommand } from "../helpers/run-command.js";
import { type TestServer, startTestServer } from "../helpers/test-server.js";

const buf = join(repoRoot, "node_modules", ".bin", "buf");
const service = "zitadel.user.v2.UserService";

let server: TestServer;
beforeAll(async () => {
  if (!existsSync(buf)) throw new Error(`${buf} is missing: run \`npm install\` (the buf CLI comes from @bufbuild/buf)`);
  assertThirdPartyProtos();
  server = await startTestServer();
});
afterAll(async () => {
  await server?.close();
});

const protocols = {
  connect: ["--protocol", "connect"],
  grpc: ["--protocol", "grpc", "--http2-prior-knowledge"],
  grpcweb: ["--protocol", "grpcweb"],
} as const;

const profile = { givenName: "Ada", familyName: "Lovelace" };
const mobile = "+41791234567";

interface ErrorJson {
  code: string;
  message: string;
  details?: { type: string; value: string; debug?: unknown }[];
}

function curl(protocol: keyof typeof protocols, method: string, request: object): Promise<CommandResult> {
  // The repository root is a buf workspace: proto/ holds the contract, third_party/ its imports and google.rpc.
  return runCommand(
    buf,
    [
      "curl",
      "--schema",
      "proto",
      "--schema",
      "third_party",
      ...protocols[protocol],
      "--data",
      JSON.stringify(request),
      `${server.url}/${service}/${method}`,
    ],
    { cwd: repoRoot, timeoutMs: 20_000 },
  );
}

function expectSuccess(result: CommandResult): Record<string, unknown> {
  if (result.exitCode !== 0) throw new Error(`buf curl exited ${result.exitCode}: ${result.stderr}${result.stdout}`);
  return JSON.parse(result.stdout) as Record<string, unknown>;
}

function errorJson(result: CommandResult): ErrorJson {
  const text = result.stderr.trim() || result.stdout.trim();
  try {
    return JSON.parse(text) as ErrorJson;
  } catch {
    throw new Error(`buf curl exited ${result.exitCode} without an error JSON: ${text}`);
  }
}

/** Decodes every detail of the given type from buf curl's error JSON (`value` is base64 of the message bytes). */
function details<Desc extends DescMessage>(error: ErrorJson, schema: Desc): MessageShape<Desc>[] {
  return (error.details ?? [])
    .filter((detail) => detail.type === schema.typeName)
    .map((detail) => fromBinary(schema, base64Decode(detail.value)));
}

describe.each(Object.keys(protocols) as (keyof typeof protocols)[])("buf curl --protocol %s", (protocol) => {
  async function userWithPhoneCode() {
    const added = expectSuccess(await curl(protocol, "AddHumanUser", { profile, phone: { phone: mobile, returnCode: {} } }));
    expect(added.userId).toEqual(expect.any(String));
    expect(added.phoneCode).toMatch(/^\d{6}$/);
    return { userId: added.userId as string, code: added.phoneCode as string, added };
  }

  it("adds a user with a phone code and verifies the phone", async () => {
    const { userId, code, added } = await userWithPhoneCode();
    expect(added.details).toMatchObject({ sequence: "2" });

    const verified = expectSuccess(await curl(protocol, "VerifyPhone", { userId, verificationCode: code }));
    expect(Object.keys(verified)).toEqual(["details"]);
    const verifiedDetails = verified.details as Record<string, string>;
    expect(verifiedDetails.sequence).toBe("3");
    expect(Date.parse(verifiedDetails.changeDate as string)).toBe(server.clock.now().getTime());
    expect(verifiedDetails.resourceOwner).toMatch(/^\d+$/);

    const user = expectSuccess(await curl(protocol, "GetUserByID", { userId }));
    expect(user).toMatchObject({ user: { userId, human: { phone: { phone: mobile, isVerified: true } } } });
  });

  it("exits 24 (8 × invalid_argument) for a wrong code, printing COMMAND-eis9R and INVALID_VERIFICATION_CODE", async () => {
    const { userId } = await userWithPhoneCode();
    const result = await curl(protocol, "VerifyPhone", { userId, verificationCode: "000000x" });
    expect(result.exitCode, result.stderr).toBe(24);
    const error = errorJson(result);
    expect(error).toMatchObject({ code: "invalid_argument", message: "Code is invalid (COMMAND-eis9R)" });
    expect(error.details?.map((detail) => detail.type)).toEqual(
      expect.arrayContaining(["zitadel.v1.ErrorDetail", "google.rpc.ErrorInfo"]),
    );
    expect(details(error, ErrorDetailSchema)).toEqual([
      expect.objectContaining({ id: "COMMAND-eis9R", message: "Code is invalid" }),
    ]);
    expect(details(error, ErrorInfoSchema)).toEqual([
      expect.objectContaining({ reason: "INVALID_VERIFICATION_CODE", domain: "verifyd", metadata: { attemptsLeft: "4" } }),
    ]);
  });

  it("exits 40 (8 × not_found) for an unknown user with USER_NOT_FOUND", async () => {
    const result = await curl(protocol, "VerifyPhone", { userId: "123", verificationCode: "123456" });
    expect(result.exitCode, result.stderr).toBe(40);
    const error = errorJson(result);
    expect(error.code).toBe("not_found");
    expect(details(error, ErrorInfoSchema)).toEqual([expect.objectContaining({ reason: "USER_NOT_FOUND" })]);
  });

  it("exits 24 with a google.rpc.BadRequest for a code longer than 20 characters", async () => {
    const { userId } = await userWithPhoneCode();
    const result = await curl(protocol, "VerifyPhone", { userId, verificationCode: "x".repeat(21) });
    expect(result.exitCode, result.stderr).toBe(24);
    const [badRequest] = details(errorJson(result), BadRequestSchema);
    expect(badRequest?.fieldViolations.map((violation) => violation.field)).toEqual(["verification_code"]);
  });

  it("exits 96 (8 × unimplemented) for a field the server does not support", async () => {
    const result = await curl(protocol, "AddHumanUser", {
      profile,
      phone: { phone: mobile, returnCode: {} },
      metadata: [{ key: "k", value: "dg==" }],
    });
    expect(result.exitCode, result.stderr).toBe(96);
    const error = errorJson(result);
    expect(error.code).toBe("unimplemented");
    expect(error.message).toContain("metadata");
  });
});
