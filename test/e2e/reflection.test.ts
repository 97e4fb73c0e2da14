// gRPC server reflection: `buf curl` (Go, its own reflection client) lists and calls our RPCs with no .proto file at
// hand, run from an empty directory so that nothing but the server can tell it the schema; connect-node's gRPC client
// checks the protocol's answers one by one, on v1 and v1alpha; and with --reflection false the list fails.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type DescService, create, fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { Code, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Health } from "../../src/gen/grpc/health/v1/health_pb.js";
import {
  ServerReflection,
  type ServerReflectionRequest,
  ServerReflectionRequestSchema,
  type ServerReflectionResponse,
} from "../../src/gen/grpc/reflection/v1/reflection_pb.js";
import * as v1alpha from "../../src/gen/grpc/reflection/v1alpha/reflection_pb.js";
import { ApplicationService } from "../../src/gen/verifyd/apps/v1/application_service_pb.js";
import { SecurityLogService } from "../../src/gen/verifyd/security/v1/security_log_service_pb.js";
import { VerificationSettingsService } from "../../src/gen/verifyd/settings/v1/verification_settings_service_pb.js";
import { InternalPermissionService } from "../../src/gen/zitadel/internal_permission/v2beta/internal_permission_service_pb.js";
import { OrganizationService } from "../../src/gen/zitadel/org/v2/org_service_pb.js";
import { UserService } from "../../src/gen/zitadel/user/v2/user_service_pb.js";
import { uniqueMobile } from "../helpers/api-session.js";
import { repoRoot } from "../helpers/grpc-js-client.js";
import { type CommandResult, runCommand } from "../helpers/run-command.js";
import { type TestServer, startTestServer } from "../helpers/test-server.js";

const buf = join(repoRoot, "node_modules", ".bin", "buf");
const grpc = ["--protocol", "grpc", "--http2-prior-knowledge"];
const offered: DescService[] = [
  UserService,
  OrganizationService,
  InternalPermissionService,
  VerificationSettingsService,
  SecurityLogService,
  ApplicationService,
  Health,
];

let server: TestServer;
let withoutReflection: TestServer;
let emptyDirectory: string;
beforeAll(async () => {
  [server, withoutReflection] = await Promise.all([startTestServer(), startTestServer(["--reflection", "false"])]);
  emptyDirectory = mkdtempSync(join(tmpdir(), "verifyd-no-protos-"));
});
afterAll(async () => {
  await Promise.all([server?.close(), withoutReflection?.close()]);
  rmSync(emptyDirectory, { recursive: true, force: true });
});

function bufCurl(args: string[]): Promise<CommandResult> {
  return runCommand(buf, ["curl", ...args], { cwd: emptyDirectory, timeoutMs: 20_000 });
}

function expectSuccess(result: CommandResult): string {
  if (result.exitCode !== 0) throw new Error(`buf curl exited ${result.exitCode}: ${result.stderr}${result.stdout}`);
  return result.stdout;
}

describe("buf curl without --schema", () => {
  it.each(["grpc-v1", "grpc-v1alpha"])("lists every method of every service, without a token, over %s", async (version) => {
    const listed = expectSuccess(await bufCurl([...grpc, "--reflect-protocol", version, "--list-methods", server.url]));
    const methods = listed.trim().split("\n");
    for (const service of offered) {
      for (const method of service.methods) expect(methods).toContain(`${service.typeName}/${method.name}`);
    }
    expect(methods).toContain("zitadel.user.v2.UserService/VerifyPhone");
  });

  it("adds a user and verifies the phone, knowing the schema only from the server", async () => {
    const token = ["-H", `Authorization: Bearer ${server.adminToken}`];
    const phone = uniqueMobile();
    const added = JSON.parse(
      expectSuccess(
        await bufCurl([
          ...grpc,
          ...token,
          "--data",
          JSON.stringify({ profile: { givenName: "Ada", familyName: "Lovelace" }, phone: { phone, returnCode: {} } }),
          `${server.url}/zitadel.user.v2.UserService/AddHumanUser`,
        ]),
      ),
    ) as { userId: string; phoneCode: string };
    expect(added.phoneCode).toMatch(/^\d{6}$/);

    const verify = JSON.stringify({ userId: added.userId, verificationCode: added.phoneCode });
    const verified = JSON.parse(
      expectSuccess(await bufCurl([...grpc, ...token, "--data", verify, `${server.url}/zitadel.user.v2.UserService/VerifyPhone`])),
    ) as { details?: { sequence?: string } };
    expect(verified.details?.sequence).toBe("3");
  });

  it.each([["connect"], ["grpcweb"]])("resolves the schema over --protocol %s too (HTTP/1.1)", async (protocol) => {
    const token = ["-H", `Authorization: Bearer ${server.adminToken}`];
    const request = ["--data", '{"userId":"404404404"}', `${server.url}/zitadel.user.v2.UserService/GetUserByID`];
    const result = await bufCurl(["--protocol", protocol, ...token, ...request]);
    expect(result.exitCode, result.stderr).toBe(40);
    expect(JSON.parse(result.stderr || result.stdout)).toMatchObject({ code: "not_found" });
  });

  it("still needs the token for the call itself: exit 128 (8 × unauthenticated)", async () => {
    const result = await bufCurl([...grpc, "--data", '{"userId":"1"}', `${server.url}/zitadel.user.v2.UserService/GetUserByID`]);
    expect(result.exitCode, result.stderr).toBe(128);
  });

  it("cannot list anything from a server started with --reflection false", async () => {
    const result = await bufCurl([...grpc, "--list-methods", withoutReflection.url]);
    expect(result.exitCode).not.toBe(0);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(/reflection/i);
  });
});

describe("the reflection protocol", () => {
  /** Sends the requests on one stream and collects the answers. */
  async function reflect(requests: Parameters<typeof create<typeof ServerReflectionRequestSchema>>[1][]) {
    const client = createClient(ServerReflection, createGrpcTransport({ baseUrl: server.url }));
    const answers: ServerReflectionResponse[] = [];
    for await (const answer of client.serverReflectionInfo(stream(requests))) answers.push(answer);
    return answers;
  }
  async function* stream(requests: Parameters<typeof create<typeof ServerReflectionRequestSchema>>[1][]) {
    for (const request of requests) yield create(ServerReflectionRequestSchema, request) as ServerReflectionRequest;
  }
  const fileNames = (answer: ServerReflectionResponse | undefined) =>
    answer?.messageResponse.case === "fileDescriptorResponse"
      ? answer.messageResponse.value.fileDescriptorProto.map((bytes) => fromBinary(FileDescriptorProtoSchema, bytes).name)
      : [];

  it("lists the services, reflection's own included", async () => {
    const [answer] = await reflect([{ host: "localhost", messageRequest: { case: "listServices", value: "" } }]);
    expect(answer?.validHost).toBe("localhost");
    expect(answer?.messageResponse.case).toBe("listServicesResponse");
    const listed = answer?.messageResponse.case === "listServicesResponse" ? answer.messageResponse.value.service : [];
    const reflection = ["grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection"];
    expect(listed.map((service) => service.name).sort()).toEqual([...offered.map((service) => service.typeName), ...reflection].sort());
  });

  it("sends a file with its imports once per stream, and the asked file every time", async () => {
    const byName = { case: "fileByFilename", value: "zitadel/user/v2/user_service.proto" } as const;
    const [first, second, method] = await reflect([
      { messageRequest: byName },
      { messageRequest: byName },
      { messageRequest: { case: "fileContainingSymbol", value: "zitadel.user.v2.UserService.VerifyPhone" } },
    ]);
    expect(fileNames(first)[0]).toBe("zitadel/user/v2/user_service.proto");
    expect(fileNames(first)).toEqual(
      expect.arrayContaining(["google/api/annotations.proto", "google/protobuf/descriptor.proto", "buf/validate/validate.proto"]),
    );
    expect(fileNames(second)).toEqual(["zitadel/user/v2/user_service.proto"]);
    expect(fileNames(method)).toEqual(["zitadel/user/v2/user_service.proto"]);
  });

  it("finds the files of fields, enum values, error details and extensions, and the extension numbers of a message", async () => {
    const [field, enumValue, errorInfo, errorDetail, extension, numbers] = await reflect([
      { messageRequest: { case: "fileContainingSymbol", value: "zitadel.user.v2.VerifyPhoneRequest.verification_code" } },
      { messageRequest: { case: "fileContainingSymbol", value: "grpc.health.v1.HealthCheckResponse.SERVING" } },
      { messageRequest: { case: "fileContainingSymbol", value: "google.rpc.ErrorInfo" } },
      { messageRequest: { case: "fileContainingSymbol", value: "zitadel.v1.ErrorDetail" } },
      {
        messageRequest: {
          case: "fileContainingExtension",
          value: { containingType: "google.protobuf.MethodOptions", extensionNumber: 72295728 },
        },
      },
      { messageRequest: { case: "allExtensionNumbersOfType", value: "google.protobuf.MethodOptions" } },
    ]);
    expect(fileNames(field)[0]).toBe("zitadel/user/v2/user_service.proto");
    expect(fileNames(enumValue)[0]).toBe("grpc/health/v1/health.proto");
    expect(fileNames(errorInfo)[0]).toBe("google/rpc/error_details.proto");
    expect(fileNames(errorDetail)[0]).toBe("zitadel/v1/error_detail.proto");
    expect(fileNames(extension)[0]).toBe("google/api/annotations.proto");
    expect(numbers?.messageResponse).toMatchObject({
      case: "allExtensionNumbersResponse",
      value: { baseTypeName: "google.protobuf.MethodOptions", extensionNumber: expect.arrayContaining([72295728]) },
    });
  });

  it("answers NOT_FOUND for what it does not know, and keeps the stream open", async () => {
    const answers = await reflect([
      { messageRequest: { case: "fileContainingSymbol", value: "no.such.Service" } },
      { messageRequest: { case: "fileByFilename", value: "no/such.proto" } },
      { messageRequest: { case: "allExtensionNumbersOfType", value: "no.such.Message" } },
      { messageRequest: { case: "listServices", value: "" } },
    ]);
    for (const answer of answers.slice(0, 3)) {
      expect(answer.messageResponse).toMatchObject({ case: "errorResponse", value: { errorCode: Code.NotFound } });
    }
    expect(answers[3]?.messageResponse.case).toBe("listServicesResponse");
  });

  it("answers v1alpha the same as v1", async () => {
    const client = createClient(v1alpha.ServerReflection, createGrpcTransport({ baseUrl: server.url }));
    async function* one() {
      const request = { messageRequest: { case: "fileContainingSymbol", value: "grpc.health.v1.Health" } } as const;
      yield create(v1alpha.ServerReflectionRequestSchema, request);
    }
    const answers = [];
    for await (const answer of client.serverReflectionInfo(one())) answers.push(answer);
    expect(answers).toHaveLength(1);
    const response = answers[0]?.messageResponse;
    const files = response?.case === "fileDescriptorResponse" ? response.value.fileDescriptorProto : [];
    expect(files.map((bytes) => fromBinary(FileDescriptorProtoSchema, bytes).name)).toEqual(["grpc/health/v1/health.proto"]);
  });
});
