// Every send limit, on every protocol, with the server's clock under the test's control: the exact count that
// passes, the first refusal (ResourceExhausted, SEND_LIMIT_REACHED naming the limit, a google.rpc.RetryInfo with the
// exact wait and a Retry-After), that a refused send writes no event and delivers nothing, and the reset after the
// window. Each server isolates one limit: the others are set out of reach.
import type { JsonObject } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type EventReader, openEventReader } from "../../helpers/events.js";
import { fixtures, uniqueMobile } from "../../helpers/api-session.js";
import { type ProtocolClient, allProtocols, expectOk, protocolClient } from "../../helpers/protocol-clients.js";
import { expectLimitReached } from "../../helpers/limits.js";
import { type TestServer, startTestServer } from "../../helpers/test-server.js";

const outOfReach = {
  "send-cooldown": "0s",
  "sends-per-destination-10m": "1000000",
  "sends-per-destination-day": "1000000",
  "sends-per-organization-hour": "1000000",
  "sends-per-caller-hour": "1000000",
  "verifications-per-user-hour": "1000000",
};

/** For the enclosing describe: a server where only `limit` can be reached, at `value`, and a reader of its events. */
function serverWithOnly(limit: keyof typeof outOfReach, value: string): { server: TestServer; reader: EventReader } {
  const started = {} as { server: TestServer; reader: EventReader };
  beforeAll(async () => {
    const flags = Object.entries({ ...outOfReach, [limit]: value }).flatMap(([flag, setting]) => [`--${flag}`, setting]);
    started.server = await startTestServer(flags);
    started.reader = openEventReader(started.server.config.database);
  });
  afterAll(async () => {
    started.reader?.close();
    await started.server?.close();
  });
  return started;
}

const profile = { givenName: "Ada", familyName: "Lovelace" };
const minute = 60_000;
const hour = 60 * minute;

function addWithPhone(client: ProtocolClient, phone: string, extra: JsonObject = {}) {
  return client.call("addHumanUser", { profile, phone: { phone, sendCode: {} }, ...extra });
}

describe("per user and channel: a cooldown between two codes (default 60 s)", () => {
  const started = serverWithOnly("send-cooldown", "60s");

  it.each(allProtocols)("over %s", async (protocol) => {
    const { server, reader } = started;
    const client = protocolClient(protocol, server.url, server.adminToken);
    const phone = uniqueMobile();
    const userId = expectOk(await addWithPhone(client, phone)).userId as string;
    await server.outbox.runOnce();
    const events = (await reader.events(userId)).length;
    const delivered = server.delivered.length;

    expectLimitReached(await client.call("resendPhoneCode", { userId, sendCode: {} }), "send_cooldown", minute);
    server.clock.advance(minute - 1);
    expectLimitReached(await client.call("resendPhoneCode", { userId, sendCode: {} }), "send_cooldown", 1);
    await server.outbox.runOnce();
    expect((await reader.events(userId)).length, "a refused send writes no event").toBe(events);
    expect(server.delivered.length, "a refused send delivers nothing").toBe(delivered);

    // A code returned to the caller sends nothing: no cooldown, and it starts none.
    expectOk(await client.call("resendPhoneCode", { userId, returnCode: {} }));
    // The other channel has its own cooldown.
    expectOk(await client.call("setEmail", { userId, email: `${protocol}-cooldown@example.com`, sendCode: {} }));

    server.clock.advance(1);
    expectOk(await client.call("resendPhoneCode", { userId, sendCode: {} }));
    expectLimitReached(await client.call("resendPhoneCode", { userId, sendCode: {} }), "send_cooldown", minute);
  });
});

describe("per destination, whoever asks: at most 5 codes per 10 minutes (default)", () => {
  const started = serverWithOnly("sends-per-destination-10m", "5");

  it.each(allProtocols)("over %s", async (protocol) => {
    const { server } = started;
    const client = protocolClient(protocol, server.url, server.adminToken);
    const otherOrganization = await fixtures(server.url, server.adminToken).organization();
    const phone = uniqueMobile();
    // Five users in two organizations ask for codes to one number, a second apart.
    for (let i = 0; i < 5; i++) {
      const organization: JsonObject = i % 2 === 0 ? {} : { organization: { orgId: otherOrganization } };
      expectOk(await addWithPhone(client, phone, organization));
      server.clock.advance(1000);
    }
    await server.outbox.runOnce();
    // Any spelling of the number is the same destination.
    const spelled = `${phone.slice(0, 3)} ${phone.slice(3, 5)} ${phone.slice(5)}`;
    const refused = await addWithPhone(client, spelled);
    expectLimitReached(refused, "sends_per_destination_10m", 10 * minute - 5000);

    server.clock.advance(10 * minute - 5000 - 1);
    expectLimitReached(await addWithPhone(client, phone), "sends_per_destination_10m", 1);
    server.clock.advance(1);
    expectOk(await addWithPhone(client, phone));
    await server.outbox.runOnce();
    expect(server.delivered.filter((message) => message.destination === phone)).toHaveLength(6);
  });
});

describe("per destination: an address in any letter case is one mailbox", () => {
  const started = serverWithOnly("sends-per-destination-10m", "5");

  it.each(allProtocols)("over %s", async (protocol) => {
    const { server } = started;
    const client = protocolClient(protocol, server.url, server.adminToken);
    const mailbox = `victim.${protocol}@example.com`;
    // Mail servers deliver every case of a local part to one mailbox: changing it must not buy five more codes.
    const spellings = [mailbox, mailbox.toUpperCase(), `V${mailbox.slice(1)}`, mailbox, `vIctim${mailbox.slice(6)}`];
    const addWithEmail = (email: string, i: number) =>
      client.call("addHumanUser", { username: `mailbox-${protocol}-${i}`, profile, email: { email, sendCode: {} } });
    for (const [i, email] of spellings.entries()) {
      expectOk(await addWithEmail(email, i));
      server.clock.advance(1000);
    }
    const refused = await addWithEmail(`VICTIM${mailbox.slice(6)}`, spellings.length);
    expectLimitReached(refused, "sends_per_destination_10m", 10 * minute - 5000);
  });
});

describe("per destination, whoever asks: at most 20 codes per day (default)", () => {
  const started = serverWithOnly("sends-per-destination-day", "20");

  it.each(allProtocols)("over %s", async (protocol) => {
    const { server, reader } = started;
    const client = protocolClient(protocol, server.url, server.adminToken);
    const phone = uniqueMobile();
    const userId = expectOk(await addWithPhone(client, phone)).userId as string;
    for (let i = 1; i < 20; i++) {
      server.clock.advance(minute);
      expectOk(await client.call("resendPhoneCode", { userId, sendCode: {} }));
    }
    // Delivered first, so that the last code's `code.sent` is not appended between the two counts.
    await server.outbox.runOnce();
    const events = (await reader.events(userId)).length;
    expectLimitReached(await client.call("resendPhoneCode", { userId, sendCode: {} }), "sends_per_destination_day", 24 * hour - 19 * minute);
    expect((await reader.events(userId)).length, "a refused send writes no event").toBe(events);
    server.clock.advance(24 * hour - 19 * minute);
    expectOk(await client.call("resendPhoneCode", { userId, sendCode: {} }));
  });
});

describe("per organization: a cap per hour (default 1,000)", () => {
  const started = serverWithOnly("sends-per-organization-hour", "3");

  it.each(allProtocols)("over %s", async (protocol) => {
    const { server } = started;
    const client = protocolClient(protocol, server.url, server.adminToken);
    const setup = fixtures(server.url, server.adminToken);
    const [capped, other] = [await setup.organization(), await setup.organization()];
    const inCapped = { organization: { orgId: capped } };
    for (let i = 0; i < 2; i++) {
      expectOk(await addWithPhone(client, uniqueMobile(), inCapped));
      server.clock.advance(minute);
    }
    // One place left, and a new user with a phone and an address asks for two: refused as a whole, nothing sent.
    const both = { ...inCapped, email: { email: `${protocol}-both@example.com`, sendCode: {} } };
    expectLimitReached(await addWithPhone(client, uniqueMobile(), both), "sends_per_organization_hour", hour - 2 * minute);
    expectOk(await addWithPhone(client, uniqueMobile(), inCapped));
    server.clock.advance(minute);
    expectLimitReached(await addWithPhone(client, uniqueMobile(), inCapped), "sends_per_organization_hour", hour - 3 * minute);
    // Email counts too: it is a message sent for the organization.
    const emailRefused = await client.call("addHumanUser", { profile, ...inCapped, email: { email: `${protocol}-org@example.com`, sendCode: {} } });
    expectLimitReached(emailRefused, "sends_per_organization_hour", hour - 3 * minute);
    expectOk(await addWithPhone(client, uniqueMobile(), { organization: { orgId: other } }));
    server.clock.advance(hour - 3 * minute);
    expectOk(await addWithPhone(client, uniqueMobile(), inCapped));
  });
});

describe("per caller: a cap per hour", () => {
  const started = serverWithOnly("sends-per-caller-hour", "3");

  it.each(allProtocols)("over %s", async (protocol) => {
    const { server } = started;
    const setup = fixtures(server.url, server.adminToken);
    const organizationId = await setup.organization();
    const manager = await setup.member(organizationId, ["ORG_USER_MANAGER"]);
    const client = protocolClient(protocol, server.url, manager.token);
    const inOrganization = { organization: { orgId: organizationId } };
    const userId = expectOk(await addWithPhone(client, uniqueMobile(), inOrganization)).userId as string;
    server.clock.advance(minute);
    expectOk(await client.call("resendPhoneCode", { userId, sendCode: {} }));
    server.clock.advance(minute);
    expectOk(await addWithPhone(client, uniqueMobile(), inOrganization));
    expectLimitReached(await client.call("resendPhoneCode", { userId, sendCode: {} }), "sends_per_caller_hour", hour - 2 * minute);

    // Another token of the same service account is the same caller.
    const second = protocolClient(protocol, server.url, (await setup.admin.users.addPersonalAccessToken({ userId: manager.userId })).token);
    expectLimitReached(await second.call("resendPhoneCode", { userId, sendCode: {} }), "sends_per_caller_hour", hour - 2 * minute);
    // Another caller in the same organization is not held back.
    expectOk(await protocolClient(protocol, server.url, server.adminToken).call("resendPhoneCode", { userId, sendCode: {} }));
    // Returned codes are not sends.
    expectOk(await client.call("resendPhoneCode", { userId, returnCode: {} }));
    server.clock.advance(hour - 2 * minute);
    expectOk(await client.call("resendPhoneCode", { userId, sendCode: {} }));
  });
});

describe("codes returned to the caller are not sends", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server.close();
  });

  it.each(allProtocols)("with the default limits, over %s: 30 returned codes in a row to one number", async (protocol) => {
    const client = protocolClient(protocol, server.url, server.adminToken);
    const added = expectOk(await client.call("addHumanUser", { profile, phone: { phone: uniqueMobile(), returnCode: {} } }));
    for (let i = 0; i < 30; i++) expectOk(await client.call("resendPhoneCode", { userId: added.userId as string, returnCode: {} }));
  });
});
