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
import { uniqueMobile } from "../helpers/api-session.js";
import { assertThirdPartyProtos, repoRoot } from "../helpers/grpc-js-client.js";
import { type CommandResult, runCommand } from "../helpers/run-command.js";
import { type TestServer, startTestServer } from "../helpers/test-server.js";
import { expectAdvancingSequences } from "../helpers/events.js";

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
      "-H",
      `Authorization: Bearer ${server.adminToken}`,
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

let unique = 0;
function uniqueEmail(tag: string): string {
  unique++;
  return `${tag}-${unique}@buf-curl.example.com`;
}

describe.each(Object.keys(protocols) as (keyof typeof protocols)[])("buf curl --protocol %s", (protocol) => {
  async function userWithPhoneCode() {
    const phone = uniqueMobile();
    const added = expectSuccess(await curl(protocol, "AddHumanUser", { profile, phone: { phone, returnCode: {} } }));
    expect(added.userId).toEqual(expect.any(String));
    expect(added.phoneCode).toMatch(/^\d{6}$/);
    return { userId: added.userId as string, code: added.phoneCode as string, phone, added };
  }

  it("adds a user with a phone code and verifies the phone", async () => {
    const { userId, code, phone, added } = await userWithPhoneCode();
    expect(added.details).toMatchObject({ sequence: "2" });

    const verified = expectSuccess(await curl(protocol, "VerifyPhone", { userId, verificationCode: code }));
    expect(Object.keys(verified)).toEqual(["details"]);
    const verifiedDetails = verified.details as Record<string, string>;
    expect(verifiedDetails.sequence).toBe("3");
    expect(Date.parse(verifiedDetails.changeDate as string)).toBe(server.clock.now().getTime());
    expect(verifiedDetails.resourceOwner).toMatch(/^\d+$/);

    const user = expectSuccess(await curl(protocol, "GetUserByID", { userId }));
    expect(user).toMatchObject({ user: { userId, human: { phone: { phone, isVerified: true } } } });
  });

  // 16 buf curl invocations: the ten RPCs, the GetUserByID reads between them and two refusals.
  it("runs all ten RPCs: add, verify, change, resend and remove the phone; verify, change, resend and send the email", async () => {
    const call = async (method: string, request: object) => expectSuccess(await curl(protocol, method, request));
    const sequences: bigint[] = [];
    const step = async (method: string, request: object) => {
      const response = await call(method, request);
      sequences.push(BigInt((response.details as { sequence?: string } | undefined)?.sequence ?? "0"));
      return response;
    };
    const human = async (userId: string) => {
      const { user } = (await call("GetUserByID", { userId })) as { user?: { userId?: string; human?: Record<string, unknown> } };
      expect(user?.userId).toBe(userId);
      if (!user?.human) throw new Error(`GetUserByID ${userId} answered no human user`);
      return user.human;
    };
    const email = uniqueEmail(`flow-${protocol}`);
    const phone = uniqueMobile();

    // AddHumanUser with both codes returned, then VerifyPhone with the phone code.
    const added = await step("AddHumanUser", { profile, email: { email, returnCode: {} }, phone: { phone, returnCode: {} } });
    const userId = added.userId as string;
    expect(userId).toMatch(/^\d+$/);
    expect(added.emailCode).toMatch(/^\d{6}$/);
    expect(added.phoneCode).toMatch(/^\d{6}$/);
    await step("VerifyPhone", { userId, verificationCode: added.phoneCode });

    // SetPhone to a new number: the verified number stays, the new one is pending.
    const newPhone = uniqueMobile();
    const set = await step("SetPhone", { userId, phone: newPhone, returnCode: {} });
    expect(set.verificationCode).toMatch(/^\d{6}$/);
    expect((await human(userId)).phone).toEqual({ phone, isVerified: true, pendingPhone: newPhone });

    // ResendPhoneCode: SetPhone's code is now refused (exit 24), the fresh one verifies the new number.
    const resent = await step("ResendPhoneCode", { userId, returnCode: {} });
    expect(resent.verificationCode).toMatch(/^\d{6}$/);
    if (resent.verificationCode !== set.verificationCode) {
      const stale = await curl(protocol, "VerifyPhone", { userId, verificationCode: set.verificationCode });
      expect(stale.exitCode, stale.stderr).toBe(24);
      const error = errorJson(stale);
      expect(error).toMatchObject({ code: "invalid_argument", message: "Code is invalid (COMMAND-eis9R)" });
      expect(details(error, ErrorDetailSchema)).toEqual([expect.objectContaining({ id: "COMMAND-eis9R" })]);
    }
    await step("VerifyPhone", { userId, verificationCode: resent.verificationCode });

    // RemovePhone: GetUserByID shows no phone, and a second RemovePhone exits 72 (8 × failed_precondition).
    await step("RemovePhone", { userId });
    expect((await human(userId)).phone).toEqual({});
    const again = await curl(protocol, "RemovePhone", { userId });
    expect(again.exitCode, again.stderr).toBe(72);
    const notFound = errorJson(again);
    expect(notFound).toMatchObject({ code: "failed_precondition", message: "Phone not found (COMMAND-ieJ2e)" });
    expect(details(notFound, ErrorDetailSchema)).toEqual([
      expect.objectContaining({ id: "COMMAND-ieJ2e", message: "Phone not found" }),
    ]);
    expect(details(notFound, ErrorInfoSchema)).toEqual([expect.objectContaining({ reason: "CONTACT_NOT_FOUND" })]);

    // VerifyEmail with AddHumanUser's email code; SetEmail, ResendEmailCode and SendEmailCode each return a fresh
    // code, and the latest verifies the new address.
    await step("VerifyEmail", { userId, verificationCode: added.emailCode });
    const newEmail = uniqueEmail(`flow-new-${protocol}`);
    const codes = [
      (await step("SetEmail", { userId, email: newEmail, returnCode: {} })).verificationCode,
      (await step("ResendEmailCode", { userId, returnCode: {} })).verificationCode,
      (await step("SendEmailCode", { userId, returnCode: {} })).verificationCode,
    ];
    for (const code of codes) expect(code).toMatch(/^\d{6}$/);
    await step("VerifyEmail", { userId, verificationCode: codes[2] });
    const final = await human(userId);
    expect(final.email).toEqual({ email: newEmail, isVerified: true });
    expect(final.phone).toEqual({});

    expectAdvancingSequences(sequences, 11);
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
      phone: { phone: uniqueMobile(), returnCode: {} },
      metadata: [{ key: "k", value: "dg==" }],
    });
    expect(result.exitCode, result.stderr).toBe(96);
    const error = errorJson(result);
    expect(error.code).toBe("unimplemented");
    expect(error.message).toContain("metadata");
  });
});
