// VerificationSettingsService as operators and organization owners meet it, on every protocol: an organization's
// limits over the instance's defaults (only an IAM_OWNER loosens one beyond them), its SMS countries, and test
// contacts whose codes go in and never come out.
import { join } from "node:path";
import type { JsonObject } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadKeyringFile } from "../../src/crypto/keyring-file.js";
import { createMessageSealer } from "../../src/crypto/message-sealer.js";
import { fixtures, unique } from "../helpers/api-session.js";
import { productionEnv, productionFlags } from "../helpers/production-settings.js";
import { type CallResult, type ProtocolName, allProtocols, expectFailure, expectOk, protocolClient } from "../helpers/protocol-clients.js";
import { type TestServer, startTestServer } from "../helpers/test-server.js";
import { openLiveDatabase } from "../helpers/live-database.js";

let server: TestServer;
let setup: ReturnType<typeof fixtures>;

beforeAll(async () => {
  server = await startTestServer();
  setup = fixtures(server.url, server.adminToken);
});
afterAll(async () => {
  await server?.close();
});

function settingsOf(token: string, protocol: ProtocolName = "connect-json", on: TestServer = server) {
  const client = protocolClient(protocol, on.url, token);
  return {
    get: (organizationId: string): Promise<CallResult> =>
      client.callService("VerificationSettingsService", "getVerificationSettings", { organizationId }),
    set: (organizationId: string, settings: JsonObject): Promise<CallResult> =>
      client.callService("VerificationSettingsService", "setVerificationSettings", { organizationId, ...settings }),
  };
}

/** The instance's defaults (src/config.ts), as the API shows them. */
const instanceLimits = {
  cooldownSeconds: 60,
  sendsPerDestination10m: 5,
  sendsPerDestinationDay: 20,
  sendsPerOrganizationHour: 1000,
  sendsPerCallerHour: 500,
  verificationsPerUserHour: 30,
};

/** An organization with an ORG_OWNER and an ORG_USER_VIEWER, each with a token. */
async function organizationWithOwner() {
  const organizationId = await setup.organization(unique("settings"));
  const owner = await setup.member(organizationId, ["ORG_OWNER"]);
  const viewer = await setup.member(organizationId, ["ORG_USER_VIEWER"]);
  return { organizationId, owner: owner.token, viewer: viewer.token };
}

describe.each(allProtocols)("over %s", (protocol) => {
  it("shows the instance's defaults for an organization that set nothing", async () => {
    const { organizationId, viewer } = await organizationWithOwner();
    expect(expectOk(await settingsOf(viewer, protocol).get(organizationId))).toEqual({
      limits: {},
      phoneCountries: { mode: "PHONE_COUNTRIES_MODE_ALL" },
      effectiveLimits: instanceLimits,
      testContactsHonoured: true,
    });
  });

  it("sets and reads back limits, countries and test contacts, with the limits in force, never a code", async () => {
    const { organizationId, owner, viewer } = await organizationWithOwner();
    const settings: JsonObject = {
      limits: { cooldownSeconds: 120, sendsPerCallerHour: 100 },
      phoneCountries: { mode: "PHONE_COUNTRIES_MODE_ALLOW_LIST", callingCodes: ["41", "49"] },
      testContacts: [
        { phone: "+41 79 000 00 01", code: "246810" },
        { email: "App.Review@Example.COM", code: "AppStore1" },
      ],
    };
    const expected = {
      limits: { cooldownSeconds: 120, sendsPerCallerHour: 100 },
      phoneCountries: { mode: "PHONE_COUNTRIES_MODE_ALLOW_LIST", callingCodes: ["41", "49"] },
      testContacts: [{ phone: "+41790000001" }, { email: "App.Review@example.com" }],
      effectiveLimits: { ...instanceLimits, cooldownSeconds: 120, sendsPerCallerHour: 100 },
      testContactsHonoured: true,
    };
    const set = expectOk(await settingsOf(owner, protocol).set(organizationId, settings));
    expect(set).toEqual(expected);
    const got = expectOk(await settingsOf(viewer, protocol).get(organizationId));
    expect(got).toEqual(expected);
    for (const answer of [set, got]) {
      expect(JSON.stringify(answer)).not.toMatch(/246810|AppStore1/);
    }
  });
});

describe("a mistyped mode over REST (JSON clients send it as they please)", () => {
  it("is refused, and the deny list already set stays in force", async () => {
    const { organizationId, owner } = await organizationWithOwner();
    const settings = settingsOf(owner, "rest");
    const denyList = { mode: "PHONE_COUNTRIES_MODE_DENY_LIST", callingCodes: ["7"] };
    expectOk(await settings.set(organizationId, { phoneCountries: denyList }));

    const refused = expectFailure(await settings.set(organizationId, { phoneCountries: { mode: "PHONE_COUNTRIES_MODE_DENY_LIST_TYPO" } }));
    expect(refused).toMatchObject({
      code: 3,
      httpStatus: 400,
      message: 'invalid JSON body: phoneCountries.mode: "PHONE_COUNTRIES_MODE_DENY_LIST_TYPO" is not a value of verifyd.settings.v1.PhoneCountriesMode',
    });
    expect(expectOk(await settings.get(organizationId)).phoneCountries).toEqual(denyList);
  });
});

describe("a misspelt field name (verifyd's own API is read strictly)", () => {
  it("is refused over REST and Connect JSON, and the settings already set stay in force", async () => {
    const { organizationId, owner } = await organizationWithOwner();
    const denyList = { mode: "PHONE_COUNTRIES_MODE_DENY_LIST", callingCodes: ["7"] };
    expectOk(await settingsOf(owner, "rest").set(organizationId, { phoneCountries: denyList }));

    // Replacing the whole object, a body of only unknown names would otherwise reset everything to the defaults.
    const misspelt = JSON.stringify({ phoneCountrys: { mode: "PHONE_COUNTRIES_MODE_ALLOW_LIST", callingCodes: ["41"] } });
    const headers = { "content-type": "application/json", authorization: `Bearer ${owner}` };
    const overRest = await fetch(`${server.url}/verifyd/v1/organizations/${organizationId}/verification_settings`, {
      method: "PUT",
      headers,
      body: misspelt,
    });
    expect(overRest.status).toBe(400);
    expect(((await overRest.json()) as { message: string }).message).toMatch(/^invalid JSON body: .*"phoneCountrys" is unknown/);
    const overConnect = await fetch(`${server.url}/verifyd.settings.v1.VerificationSettingsService/SetVerificationSettings`, {
      method: "POST",
      headers,
      body: JSON.stringify({ organizationId, ...JSON.parse(misspelt) }),
    });
    expect(overConnect.status).toBe(400);
    expect(await overConnect.json()).toMatchObject({ code: "invalid_argument", message: expect.stringContaining('"phoneCountrys" is unknown') });

    expect(expectOk(await settingsOf(owner).get(organizationId)).phoneCountries).toEqual(denyList);
  });
});

describe("test contacts' codes", () => {
  it("are stored only sealed, opening to the contact and its code, and an empty code keeps the one set", async () => {
    const { organizationId, owner } = await organizationWithOwner();
    const settings = settingsOf(owner, "rest");
    expectOk(await settings.set(organizationId, { testContacts: [{ phone: "+41790000002", code: "ReviewCode7" }] }));
    // Set again as a client that read the settings: the contact without its code, plus one more.
    expectOk(
      await settings.set(organizationId, {
        testContacts: [{ phone: "+41 79 000 00 02" }, { email: "e2e@example.com", code: "424242" }],
      }),
    );

    const sqlite = openLiveDatabase(join(server.dataDir, "verifyd.sqlite"), { readonly: true });
    const row = sqlite.prepare("SELECT verification FROM organization_settings WHERE organization_id = ?").get(organizationId) as {
      verification: string;
    };
    sqlite.close();
    expect(row.verification).not.toMatch(/ReviewCode7|424242/);
    const sealer = createMessageSealer(loadKeyringFile(join(server.dataDir, "keyring.json"), { mayCreate: false }));
    const stored = JSON.parse(row.verification).testContacts as { channel: string; value: string; keyId: string; sealedCode: string }[];
    const opened = stored.map((contact) => ({
      channel: contact.channel,
      value: contact.value,
      message: sealer.open(contact.keyId, Buffer.from(contact.sealedCode, "base64")),
    }));
    expect(opened).toMatchObject([
      { channel: "phone", value: "+41790000002", message: { destination: "+41790000002", text: "ReviewCode7" } },
      { channel: "email", value: "e2e@example.com", message: { destination: "e2e@example.com", text: "424242" } },
    ]);
  });
});

describe.each(allProtocols)("refusals over %s", (protocol) => {
  let organizationId: string;
  let owner: string;
  beforeAll(async () => {
    ({ organizationId, owner } = await organizationWithOwner());
  });

  /** The field violations of a refused Set, as field → reason. */
  const violations = async (settings: JsonObject) => {
    const refused = expectFailure(await settingsOf(owner, protocol).set(organizationId, settings));
    expect(refused.code, refused.message).toBe(3);
    if (protocol === "rest") expect(refused.httpStatus).toBe(400);
    return Object.fromEntries((refused.fieldViolations ?? []).map((violation) => [violation.field, violation.reason]));
  };

  it("refuses calling codes that are malformed, unknown, or given without a list", async () => {
    const allow = (callingCodes: string[]) => ({ phoneCountries: { mode: "PHONE_COUNTRIES_MODE_ALLOW_LIST", callingCodes } });
    expect(await violations(allow(["41", "0", "1234", "+1"]))).toEqual({
      "phone_countries.calling_codes[1]": "string.pattern",
      "phone_countries.calling_codes[2]": "string.pattern",
      "phone_countries.calling_codes[3]": "string.pattern",
    });
    expect(await violations(allow(["41", "999", "42"]))).toEqual({
      "phone_countries.calling_codes[1]": "calling_code.known",
      "phone_countries.calling_codes[2]": "calling_code.known",
    });
    expect(await violations(allow([]))).toEqual({ phone_countries: "calling_codes_with_list_mode" });
    expect(await violations({ phoneCountries: { mode: "PHONE_COUNTRIES_MODE_ALL", callingCodes: ["41"] } })).toEqual({
      phone_countries: "calling_codes_with_list_mode",
    });
  });

  it("refuses codes that are not 1 to 20 letters and digits", async () => {
    const withCode = (code: string) => ({ testContacts: [{ phone: "+41790000003", code }] });
    for (const code of ["12 34", "x".repeat(21), "äöü123", "12-34"]) {
      expect(await violations(withCode(code)), code).toEqual({ "test_contacts[0].code": "string.pattern" });
    }
    expect(await violations({ testContacts: [{ phone: "+41790000003" }] })).toEqual({ "test_contacts[0].code": "test_contact.code" });
  });

  it("refuses a contact listed twice, a landline, a number outside the organization's countries, a bad address", async () => {
    expect(
      await violations({
        phoneCountries: { mode: "PHONE_COUNTRIES_MODE_DENY_LIST", callingCodes: ["1"] },
        testContacts: [
          { phone: "+41790000004", code: "1" },
          { phone: "+41 (0)79 000 00 04", code: "2" },
          { phone: "+41446681800", code: "3" },
          { phone: "+12015550123", code: "4" },
          { email: "Twice@Example.com", code: "5" },
          { email: "twice@example.COM", code: "6" },
        ],
      }),
    ).toEqual({
      "test_contacts[1].phone": "test_contact.unique",
      "test_contacts[2].phone": "PHONE_INVALID",
      "test_contacts[3].phone": "PHONE_COUNTRY_NOT_ALLOWED",
      "test_contacts[5].email": "test_contact.unique",
    });
    expect(await violations({ testContacts: [{ email: "not an address", code: "1" }] })).toEqual({ "test_contacts[0].email": "string.email" });
    expect(await violations({ testContacts: [{ code: "1" }] })).toEqual({ "test_contacts[0].contact": "required" });
  });

  it("refuses limits outside their range", async () => {
    expect(await violations({ limits: { sendsPerCallerHour: 0, cooldownSeconds: 86_401 } })).toEqual({
      "limits.cooldown_seconds": "uint32.lte",
      "limits.sends_per_caller_hour": "uint32.gte_lte",
    });
  });
});

describe.each(allProtocols)("who may change what, over %s", (protocol) => {
  it("lets an ORG_OWNER tighten limits and set countries and test contacts, but not loosen a limit", async () => {
    const { organizationId, owner } = await organizationWithOwner();
    const settings = settingsOf(owner, protocol);
    expectOk(
      await settings.set(organizationId, {
        limits: { cooldownSeconds: 300, sendsPerDestination10m: 1, sendsPerOrganizationHour: 10 },
        phoneCountries: { mode: "PHONE_COUNTRIES_MODE_DENY_LIST", callingCodes: ["7"] },
        testContacts: [{ email: "reviewer@example.com", code: "111111" }],
      }),
    );

    for (const [limits, raised] of [
      [{ sendsPerCallerHour: 501 }, "sends_per_caller_hour"],
      [{ cooldownSeconds: 59, verificationsPerUserHour: 31 }, "send_cooldown,verifications_per_user_hour"],
    ] as const) {
      const refused = expectFailure(await settings.set(organizationId, { limits }));
      expect(refused).toMatchObject({ code: 7, errorInfo: { reason: "LIMIT_RAISE_DENIED", metadata: { limits: raised } } });
      if (protocol === "rest") expect(refused.httpStatus).toBe(403);
    }
    // Nothing of a refused call was stored.
    expect(expectOk(await settings.get(organizationId))).toMatchObject({
      limits: { cooldownSeconds: 300, sendsPerDestination10m: 1, sendsPerOrganizationHour: 10 },
      testContacts: [{ email: "reviewer@example.com" }],
    });
  });

  it("lets an IAM_OWNER loosen limits, which the ORG_OWNER may then keep or tighten but not exceed", async () => {
    const { organizationId, owner } = await organizationWithOwner();
    const granted = { cooldownSeconds: 0, sendsPerOrganizationHour: 50_000 };
    expect(expectOk(await settingsOf(server.adminToken, protocol).set(organizationId, { limits: granted }))).toMatchObject({
      effectiveLimits: { ...instanceLimits, ...granted },
    });

    const settings = settingsOf(owner, protocol);
    // proto3 JSON leaves out a zero; the override is still there.
    expect(expectOk(await settings.get(organizationId))).toMatchObject({ limits: { sendsPerOrganizationHour: 50_000 } });
    expectOk(await settings.set(organizationId, { limits: granted, testContacts: [{ phone: "+41790000005", code: "5" }] }));
    expectOk(await settings.set(organizationId, { limits: { ...granted, sendsPerOrganizationHour: 20_000 } }));
    const refused = expectFailure(await settings.set(organizationId, { limits: { ...granted, sendsPerOrganizationHour: 20_001 } }));
    expect(refused.errorInfo).toMatchObject({ reason: "LIMIT_RAISE_DENIED", metadata: { limits: "sends_per_organization_hour" } });
  });

  it("answers a member of another organization, and anyone about a missing one, with the organization's NotFound", async () => {
    const { organizationId } = await organizationWithOwner();
    const stranger = await organizationWithOwner();
    const settings = settingsOf(stranger.owner, protocol);
    const missing = unique("no-such-org");
    for (const result of [
      await settings.get(organizationId),
      await settings.set(organizationId, {}),
      await settingsOf(server.adminToken, protocol).get(missing),
      await settingsOf(server.adminToken, protocol).set(missing, {}),
    ]) {
      expect(expectFailure(result)).toMatchObject({ code: 5, errorInfo: { reason: "ORGANIZATION_NOT_FOUND" } });
    }
  });

  it("lets a viewer read but not set (PermissionDenied)", async () => {
    const { organizationId, viewer } = await organizationWithOwner();
    expectOk(await settingsOf(viewer, protocol).get(organizationId));
    expect(expectFailure(await settingsOf(viewer, protocol).set(organizationId, {}))).toMatchObject({
      code: 7,
      errorInfo: { reason: "PERMISSION_DENIED", metadata: { permission: "org.settings.write" } },
    });
  });
});

describe("in production mode", () => {
  const contact = { testContacts: [{ phone: "+41790000006", code: "123456" }] };

  it("refuses test contacts without --test-contacts (FailedPrecondition), and takes the rest", async () => {
    const production = await startTestServer(productionFlags, { env: productionEnv });
    try {
      const organizationId = await fixtures(production.url, production.adminToken).organization();
      const settings = settingsOf(production.adminToken, "rest", production);
      const refused = expectFailure(await settings.set(organizationId, contact));
      expect(refused).toMatchObject({ code: 9, httpStatus: 400, errorInfo: { reason: "TEST_CONTACTS_DISABLED" } });
      const answer = expectOk(await settings.set(organizationId, { limits: { sendsPerCallerHour: 10 } }));
      // false, which proto3 JSON leaves out
      expect(answer).toMatchObject({ limits: { sendsPerCallerHour: 10 } });
      expect(answer.testContactsHonoured).toBeUndefined();
    } finally {
      await production.close();
    }
  });

  it("takes them with --test-contacts", async () => {
    const production = await startTestServer([...productionFlags, "--test-contacts"], { env: productionEnv });
    try {
      const organizationId = await fixtures(production.url, production.adminToken).organization();
      const answer = expectOk(await settingsOf(production.adminToken, "grpc", production).set(organizationId, contact));
      expect(answer).toMatchObject({ testContacts: [{ phone: "+41790000006" }], testContactsHonoured: true });
    } finally {
      await production.close();
    }
  });
});
