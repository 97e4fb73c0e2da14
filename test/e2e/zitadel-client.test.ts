// ZITADEL's own published client packages against verifyd: @zitadel/client's gRPC server transport and UserService
// client, and ZITADEL's generated @zitadel/proto descriptors over Connect JSON. Then a descriptor comparison that
// shows our contract declares every RPC of ours (UserService, OrganizationService, InternalPermissionService)
// exactly as ZITADEL does: same paths, messages, fields, enums and REST bindings.
import {
  type DescEnum,
  type DescField,
  type DescFile,
  type DescMessage,
  type DescService,
  getOption,
  hasOption,
  toJson,
} from "@bufbuild/protobuf";
import { nestedTypes } from "@bufbuild/protobuf/reflect";
import { type Client, Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { createServerTransport } from "@zitadel/client/node";
import { createClientTransport } from "@zitadel/client/web";
import { createUserServiceClient } from "@zitadel/client/v2";
import { ErrorDetailSchema as ZitadelErrorDetailSchema } from "@zitadel/proto/zitadel/message_pb.js";
import { InternalPermissionService as ZitadelInternalPermissionService } from "@zitadel/proto/zitadel/internal_permission/v2beta/internal_permission_service_pb.js";
import { OrganizationService as ZitadelOrganizationService } from "@zitadel/proto/zitadel/org/v2/org_service_pb.js";
import { UserService as ZitadelUserService } from "@zitadel/proto/zitadel/user/v2/user_service_pb.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { http } from "../../src/gen/google/api/annotations_pb.js";
import { HttpRuleSchema } from "../../src/gen/google/api/http_pb.js";
import { InternalPermissionService as OurInternalPermissionService } from "../../src/gen/zitadel/internal_permission/v2beta/internal_permission_service_pb.js";
import { OrganizationService as OurOrganizationService } from "../../src/gen/zitadel/org/v2/org_service_pb.js";
import { UserService as OurUserService } from "../../src/gen/zitadel/user/v2/user_service_pb.js";
import { uniqueMobile } from "../helpers/api-session.js";
import { bearer } from "../helpers/protocol-clients.js";
import { type TestServer, startTestServer } from "../helpers/test-server.js";
import { expectAdvancingSequences } from "../helpers/events.js";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.close();
});

type ZitadelUserServiceClient = Client<typeof ZitadelUserService>;

const clients: [string, () => ZitadelUserServiceClient][] = [
  // Exactly what ZITADEL's docs tell a Node backend to write, with the bootstrap administrator's token.
  [
    "@zitadel/client createServerTransport (gRPC) + createUserServiceClient",
    () => createUserServiceClient(createServerTransport(server.adminToken, { baseUrl: server.url })),
  ],
  // What ZITADEL's docs tell a browser app to write: gRPC-Web through fetch.
  [
    "@zitadel/client/web createClientTransport (gRPC-Web) + createUserServiceClient",
    () => createUserServiceClient(createClientTransport(server.adminToken, { baseUrl: server.url })),
  ],
  [
    "@zitadel/proto UserService over connect-node Connect JSON",
    () =>
      createClient(
        ZitadelUserService,
        createConnectTransport({ baseUrl: server.url, httpVersion: "1.1", useBinaryFormat: false, interceptors: [bearer(server.adminToken)] }),
      ),
  ],
];

const profile = { givenName: "Ada", familyName: "Lovelace" };

let unique = 0;
function uniqueEmail(tag: string): string {
  unique++;
  return `${tag}-${unique}@zitadel-client.example.com`;
}

/** The error exactly as the client threw it, so a test can check the client's own error type. */
async function thrown(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected an error, got a response");
}

async function rejection(promise: Promise<unknown>): Promise<ConnectError> {
  try {
    const response = await promise;
    const json = JSON.stringify(response, (_key, value) => (typeof value === "bigint" ? String(value) : value));
    throw new Error(`expected an error, got ${json}`);
  } catch (error) {
    if (error instanceof Error && error.message.startsWith("expected an error")) throw error;
    return ConnectError.from(error);
  }
}

describe.each(clients)("%s", (_name, makeClient) => {
  async function userWithPhoneCode(client: ZitadelUserServiceClient) {
    const phone = uniqueMobile();
    const added = await client.addHumanUser({
      profile,
      phone: { phone, verification: { case: "returnCode", value: {} } },
    });
    expect(added.userId).not.toBe("");
    expect(added.phoneCode).toMatch(/^\d{6}$/);
    return { userId: added.userId, code: added.phoneCode ?? "", phone };
  }

  it("adds a user, verifies the phone and reads it back as verified", async () => {
    const client = makeClient();
    const { userId, code, phone } = await userWithPhoneCode(client);

    const verified = await client.verifyPhone({ userId, verificationCode: code });
    expect(verified.details?.sequence).toBe(3n);
    expect(verified.details?.changeDate?.seconds).toBe(BigInt(server.clock.now().getTime() / 1000));
    expect(verified.details?.resourceOwner).toMatch(/^\d+$/);

    const { user } = await client.getUserByID({ userId });
    expect(user?.userId).toBe(userId);
    if (user?.type.case !== "human") throw new Error(`expected a human user, got ${user?.type.case}`);
    expect(user.type.value.phone).toMatchObject({ phone, isVerified: true });
  });

  it("runs all ten RPCs: add, verify, change, resend and remove the phone; verify, change, resend and send the email", async () => {
    const client = makeClient();
    const sequences: bigint[] = [];
    const step = <T extends { details?: { sequence: bigint } }>(response: T): T => {
      sequences.push(response.details?.sequence ?? 0n);
      return response;
    };
    const human = async (userId: string) => {
      const { user } = await client.getUserByID({ userId });
      expect(user?.userId).toBe(userId);
      if (user?.type.case !== "human") throw new Error(`expected a human user, got ${user?.type.case}`);
      return user.type.value;
    };
    const email = uniqueEmail("flow");
    const phone = uniqueMobile();

    // AddHumanUser with both codes returned, then VerifyPhone with the phone code.
    const added = step(
      await client.addHumanUser({
        profile,
        email: { email, verification: { case: "returnCode", value: {} } },
        phone: { phone, verification: { case: "returnCode", value: {} } },
      }),
    );
    const { userId } = added;
    expect(userId).toMatch(/^\d+$/);
    expect(added.emailCode).toMatch(/^\d{6}$/);
    expect(added.phoneCode).toMatch(/^\d{6}$/);
    step(await client.verifyPhone({ userId, verificationCode: added.phoneCode ?? "" }));

    // SetPhone to a new number: ZITADEL's descriptor has no pendingPhone, so the client sees the verified number,
    // which still counts for login.
    const newPhone = uniqueMobile();
    const set = step(await client.setPhone({ userId, phone: newPhone, verification: { case: "returnCode", value: {} } }));
    expect(set.verificationCode).toMatch(/^\d{6}$/);
    expect((await human(userId)).phone).toMatchObject({ phone, isVerified: true });

    // ResendPhoneCode: SetPhone's code is now refused, the fresh one verifies the new number.
    const resent = step(await client.resendPhoneCode({ userId, verification: { case: "returnCode", value: {} } }));
    expect(resent.verificationCode).toMatch(/^\d{6}$/);
    if (resent.verificationCode !== set.verificationCode) {
      const stale = await rejection(client.verifyPhone({ userId, verificationCode: set.verificationCode ?? "" }));
      expect(stale.code).toBe(Code.InvalidArgument);
      expect(stale.rawMessage).toBe("Code is invalid (COMMAND-eis9R)");
      expect(stale.findDetails(ZitadelErrorDetailSchema)).toEqual([expect.objectContaining({ id: "COMMAND-eis9R" })]);
    }
    step(await client.verifyPhone({ userId, verificationCode: resent.verificationCode ?? "" }));
    expect((await human(userId)).phone).toMatchObject({ phone: newPhone, isVerified: true });

    // RemovePhone: GetUserByID shows no phone.
    step(await client.removePhone({ userId }));
    const withoutPhone = await human(userId);
    expect(withoutPhone.phone?.phone ?? "").toBe("");
    expect(withoutPhone.phone?.isVerified ?? false).toBe(false);

    // VerifyEmail with AddHumanUser's email code; SetEmail, ResendEmailCode and SendEmailCode each return a fresh
    // code, and the latest verifies the new address.
    step(await client.verifyEmail({ userId, verificationCode: added.emailCode ?? "" }));
    expect((await human(userId)).email).toMatchObject({ email, isVerified: true });
    const newEmail = uniqueEmail("flow-new");
    const returnCode = { case: "returnCode", value: {} } as const;
    const codes = [
      step(await client.setEmail({ userId, email: newEmail, verification: returnCode })).verificationCode,
      step(await client.resendEmailCode({ userId, verification: returnCode })).verificationCode,
      step(await client.sendEmailCode({ userId, verification: returnCode })).verificationCode,
    ];
    for (const code of codes) expect(code).toMatch(/^\d{6}$/);
    step(await client.verifyEmail({ userId, verificationCode: codes[2] ?? "" }));
    const final = await human(userId);
    expect(final.email).toMatchObject({ email: newEmail, isVerified: true });
    expect(final.phone?.phone ?? "").toBe("");

    expectAdvancingSequences(sequences, 11);
  });

  it("answers RemovePhone on a user without a phone with a ConnectError FailedPrecondition and COMMAND-ieJ2e", async () => {
    const client = makeClient();
    const { userId } = await client.addHumanUser({
      profile,
      email: { email: uniqueEmail("no-phone"), verification: { case: "returnCode", value: {} } },
    });
    const error = await thrown(client.removePhone({ userId }));
    expect(error).toBeInstanceOf(ConnectError);
    if (!(error instanceof ConnectError)) throw error;
    expect(error.code).toBe(Code.FailedPrecondition);
    expect(error.code).toBe(9);
    expect(error.rawMessage).toBe("Phone not found (COMMAND-ieJ2e)");
    expect(error.findDetails(ZitadelErrorDetailSchema)).toEqual([
      expect.objectContaining({ id: "COMMAND-ieJ2e", message: "Phone not found" }),
    ]);
  });

  it("answers a wrong code with InvalidArgument and ZITADEL's own ErrorDetail COMMAND-eis9R", async () => {
    const client = makeClient();
    const { userId } = await userWithPhoneCode(client);
    const error = await rejection(client.verifyPhone({ userId, verificationCode: "000000x" }));
    expect(error.code).toBe(Code.InvalidArgument);
    expect(error.rawMessage).toBe("Code is invalid (COMMAND-eis9R)");
    const found = error.findDetails(ZitadelErrorDetailSchema);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ id: "COMMAND-eis9R", message: "Code is invalid" });
  });

  it("reads a user in the middle of a phone change, then verifies the new number with SetPhone's code", async () => {
    const client = makeClient();
    const { userId } = await client.addHumanUser({
      profile,
      phone: { phone: uniqueMobile(), verification: { case: "isVerified", value: true } },
    });
    const newMobile = uniqueMobile();
    const set = await client.setPhone({ userId, phone: newMobile, verification: { case: "returnCode", value: {} } });
    expect(set.verificationCode).toMatch(/^\d{6}$/);

    const during = await client.getUserByID({ userId });
    expect(during.user?.userId).toBe(userId);

    await client.verifyPhone({ userId, verificationCode: set.verificationCode ?? "" });
    const { user } = await client.getUserByID({ userId });
    if (user?.type.case !== "human") throw new Error(`expected a human user, got ${user?.type.case}`);
    expect(user.type.value.phone).toMatchObject({ phone: newMobile, isVerified: true });
  });

  it("answers an unknown user with NotFound", async () => {
    const error = await rejection(makeClient().verifyPhone({ userId: "123", verificationCode: "123456" }));
    expect(error.code).toBe(Code.NotFound);
  });

  it("deletes a user, which then is NotFound", async () => {
    const client = makeClient();
    const { userId } = await userWithPhoneCode(client);
    const { details } = await client.deleteUser({ userId });
    expect(details?.sequence).toBeGreaterThan(0n);
    expect((await rejection(client.getUserByID({ userId }))).code).toBe(Code.NotFound);
  });
});

const tenRpcs = [
  "AddHumanUser",
  "GetUserByID",
  "SetPhone",
  "ResendPhoneCode",
  "VerifyPhone",
  "RemovePhone",
  "SetEmail",
  "ResendEmailCode",
  "SendEmailCode",
  "VerifyEmail",
] as const;

/** Each service we declare, ZITADEL's counterpart, every RPC of ours, and shared types the walk must reach. */
const comparedServices: {
  ours: DescService;
  zitadel: DescService;
  rpcs: readonly string[];
  reaches: string[];
}[] = [
  {
    ours: OurUserService,
    zitadel: ZitadelUserService,
    rpcs: [
      ...tenRpcs,
      "CreateUser",
      "ListUsers",
      "DeleteUser",
      "DeactivateUser",
      "ReactivateUser",
      "LockUser",
      "UnlockUser",
      "SetPassword",
      "AddPersonalAccessToken",
      "RemovePersonalAccessToken",
      "ListPersonalAccessTokens",
    ],
    reaches: [
      "zitadel.user.v2.SetHumanPhone",
      "zitadel.user.v2.HumanPhone",
      "zitadel.user.v2.User",
      "zitadel.user.v2.MachineUser",
      "zitadel.user.v2.CreateUserRequest.Human",
      "zitadel.user.v2.CreateUserRequest.Machine",
      "zitadel.user.v2.Password",
      "zitadel.user.v2.HashedPassword",
      "zitadel.user.v2.SearchQuery",
      "zitadel.user.v2.OrQuery",
      "zitadel.user.v2.PhoneQuery",
      "zitadel.user.v2.PersonalAccessToken",
      "zitadel.user.v2.PersonalAccessTokensSearchFilter",
      "zitadel.filter.v2.PaginationRequest",
      "zitadel.filter.v2.TimestampFilter",
      "zitadel.object.v2.Details",
      "zitadel.object.v2.ListQuery",
      "zitadel.object.v2.ListDetails",
      "google.protobuf.Timestamp",
    ],
  },
  {
    ours: OurOrganizationService,
    zitadel: ZitadelOrganizationService,
    rpcs: ["AddOrganization", "ListOrganizations"],
    reaches: [
      "zitadel.org.v2.AddOrganizationRequest.Admin",
      "zitadel.org.v2.AddOrganizationResponse.CreatedAdmin",
      "zitadel.org.v2.Organization",
      "zitadel.org.v2.SearchQuery",
      "zitadel.org.v2.DefaultOrganizationQuery",
      "zitadel.user.v2.AddHumanUserRequest",
      "zitadel.object.v2.ListQuery",
      "zitadel.object.v2.ListDetails",
    ],
  },
  {
    ours: OurInternalPermissionService,
    zitadel: ZitadelInternalPermissionService,
    rpcs: ["CreateAdministrator", "UpdateAdministrator", "DeleteAdministrator", "ListAdministrators"],
    reaches: [
      "zitadel.internal_permission.v2beta.ResourceType",
      "zitadel.internal_permission.v2beta.ResourceType.ProjectGrant",
      "zitadel.internal_permission.v2beta.Administrator",
      "zitadel.internal_permission.v2beta.AdministratorSearchFilter",
      "zitadel.internal_permission.v2beta.NotFilter",
      "zitadel.internal_permission.v2beta.ProjectGrant",
      "zitadel.filter.v2beta.PaginationRequest",
      "zitadel.filter.v2beta.InIDsFilter",
      "zitadel.filter.v2beta.TimestampFilter",
      "google.protobuf.Timestamp",
    ],
  },
];

function method(service: DescService, name: string) {
  const found = service.methods.find((m) => m.name === name);
  if (!found) throw new Error(`${service.typeName} has no method ${name}`);
  return found;
}

/** Everything about a field that decides its binary and JSON wire form and its generated API. */
function fieldShape(field: DescField): Record<string, unknown> {
  const shape: Record<string, unknown> = {
    number: field.number,
    name: field.name,
    jsonName: field.jsonName,
    kind: field.fieldKind,
    oneof: field.oneof?.name,
    proto3Optional: field.proto.proto3Optional,
  };
  switch (field.fieldKind) {
    case "scalar":
      return { ...shape, scalar: field.scalar };
    case "enum":
      return { ...shape, enum: field.enum.typeName };
    case "message":
      return { ...shape, message: field.message.typeName };
    case "list":
      return {
        ...shape,
        listKind: field.listKind,
        element:
          field.listKind === "scalar" ? field.scalar : field.listKind === "enum" ? field.enum.typeName : field.message.typeName,
      };
    case "map":
      return {
        ...shape,
        mapKey: field.mapKey,
        mapKind: field.mapKind,
        value:
          field.mapKind === "scalar" ? field.scalar : field.mapKind === "enum" ? field.enum.typeName : field.message.typeName,
      };
  }
}

function referencedTypes(field: DescField): { message?: DescMessage; enum?: DescEnum } {
  switch (field.fieldKind) {
    case "scalar":
      return {};
    case "enum":
      return { enum: field.enum };
    case "message":
      return { message: field.message };
    case "list":
      return field.listKind === "scalar" ? {} : field.listKind === "enum" ? { enum: field.enum } : { message: field.message };
    case "map":
      return field.mapKind === "scalar" ? {} : field.mapKind === "enum" ? { enum: field.enum } : { message: field.message };
  }
}

/** Walks two message trees side by side and lists every difference; also records which messages were compared. */
function compareMessages(zitadel: DescMessage, ours: DescMessage, seen: Set<string>, problems: string[]): void {
  if (zitadel.typeName !== ours.typeName) {
    problems.push(`message ${ours.typeName} stands where ZITADEL has ${zitadel.typeName}`);
    return;
  }
  if (seen.has(zitadel.typeName)) return;
  seen.add(zitadel.typeName);
  for (const zitadelField of zitadel.fields) {
    const ourField = ours.fields.find((f) => f.number === zitadelField.number);
    if (!ourField) {
      problems.push(`${ours.typeName} lacks ZITADEL's field ${zitadelField.number} ${zitadelField.name}`);
      continue;
    }
    const expected = fieldShape(zitadelField);
    const actual = fieldShape(ourField);
    for (const key of new Set([...Object.keys(expected), ...Object.keys(actual)])) {
      if (expected[key] !== actual[key]) {
        const where = `${ours.typeName}.${ourField.name} (${ourField.number})`;
        problems.push(`${where}: ${key} is ${String(actual[key])}, ZITADEL has ${String(expected[key])}`);
      }
    }
    const zitadelRefs = referencedTypes(zitadelField);
    const ourRefs = referencedTypes(ourField);
    if (zitadelRefs.message && ourRefs.message) compareMessages(zitadelRefs.message, ourRefs.message, seen, problems);
    if (zitadelRefs.enum && ourRefs.enum) compareEnums(zitadelRefs.enum, ourRefs.enum, problems);
  }
  for (const ourField of ours.fields) {
    // verifyd's own additions live at 1000 and above, where ZITADEL does not number fields.
    if (ourField.number >= verifydExtensionsFrom) continue;
    if (!zitadel.fields.some((f) => f.number === ourField.number)) {
      problems.push(`${ours.typeName} declares field ${ourField.number} ${ourField.name}, which ZITADEL lacks`);
    }
  }
}

const verifydExtensionsFrom = 1000;

function compareEnums(zitadel: DescEnum, ours: DescEnum, problems: string[]): void {
  const values = (e: DescEnum) => e.values.map((v) => `${v.name}=${v.number}`);
  const zitadelValues = values(zitadel);
  const ourValues = values(ours);
  for (const value of zitadelValues) {
    if (!ourValues.includes(value)) problems.push(`enum ${ours.typeName} lacks ZITADEL's ${value}`);
  }
  for (const value of ourValues) {
    if (!zitadelValues.includes(value)) problems.push(`enum ${ours.typeName} declares ${value}, which ZITADEL lacks`);
  }
}

/** Every message (nested ones included) declared in our files of ZITADEL packages that the services import. */
function ourZitadelMessages(services: DescService[]): string[] {
  const files = new Set<DescFile>();
  const visit = (file: DescFile) => {
    if (files.has(file) || !file.proto.package.startsWith("zitadel.")) return;
    files.add(file);
    for (const dependency of file.dependencies) visit(dependency);
  };
  for (const service of services) visit(service.file);
  return [...files].flatMap((file) =>
    [...nestedTypes(file)].filter((type) => type.kind === "message").map((type) => type.typeName),
  );
}

describe("our descriptors against @zitadel/proto's, all services together", () => {
  it("compares every message our ZITADEL-package files declare: none escapes the walk from the RPCs", () => {
    const seen = new Set<string>();
    const problems: string[] = [];
    for (const { ours, zitadel, rpcs } of comparedServices) {
      for (const name of rpcs) {
        compareMessages(method(zitadel, name).input, method(ours, name).input, seen, problems);
        compareMessages(method(zitadel, name).output, method(ours, name).output, seen, problems);
      }
    }
    expect(problems).toEqual([]);
    const declared = ourZitadelMessages(comparedServices.map((compared) => compared.ours));
    const unreached = declared.filter((typeName) => !seen.has(typeName));
    expect(unreached).toEqual([]);
  });
});

describe.each(comparedServices)("our descriptors against @zitadel/proto's: $ours.typeName", (compared) => {
  const { ours, zitadel, rpcs, reaches } = compared;
  it("declares the same service with our RPCs at the same paths, and no RPC ZITADEL lacks", () => {
    expect(ours.typeName).toBe(zitadel.typeName);
    expect(ours.methods.map((m) => m.name).sort()).toEqual([...rpcs].sort());
    for (const name of rpcs) {
      const ourMethod = method(ours, name);
      const zitadelMethod = method(zitadel, name);
      const path = (m: typeof ourMethod) => `/${m.parent.typeName}/${m.name}`;
      expect(path(ourMethod)).toBe(path(zitadelMethod));
      expect(ourMethod.localName).toBe(zitadelMethod.localName);
      expect(ourMethod.methodKind).toBe(zitadelMethod.methodKind);
      expect(ourMethod.input.typeName).toBe(zitadelMethod.input.typeName);
      expect(ourMethod.output.typeName).toBe(zitadelMethod.output.typeName);
    }
  });

  it("declares every request and response message, recursively, field for field as ZITADEL does", () => {
    const seen = new Set<string>();
    const problems: string[] = [];
    for (const name of rpcs) {
      const ourMethod = method(ours, name);
      const zitadelMethod = method(zitadel, name);
      compareMessages(zitadelMethod.input, ourMethod.input, seen, problems);
      compareMessages(zitadelMethod.output, ourMethod.output, seen, problems);
    }
    expect(problems).toEqual([]);
    // The walk reached past the request and response wrappers into the shared types.
    expect([...seen]).toEqual(expect.arrayContaining(reaches));
  });

  it("binds every RPC to the same google.api.http rule as ZITADEL, or to none where ZITADEL has none", () => {
    for (const name of rpcs) {
      const ourMethod = method(ours, name);
      const zitadelMethod = method(zitadel, name);
      expect({ name, http: hasOption(ourMethod, http) }).toEqual({ name, http: hasOption(zitadelMethod, http) });
      if (!hasOption(zitadelMethod, http)) continue;
      const ourRule = getOption(ourMethod, http);
      const zitadelRule = getOption(zitadelMethod, http);
      expect({ name, pattern: ourRule.pattern, body: ourRule.body }).toEqual({
        name,
        pattern: zitadelRule.pattern,
        body: zitadelRule.body,
      });
      expect(toJson(HttpRuleSchema, ourRule)).toEqual(toJson(HttpRuleSchema, zitadelRule));
    }
  });
});
