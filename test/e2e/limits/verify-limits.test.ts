// The per-user cap on verification attempts (default 30 an hour, phone and email together) on every protocol, and
// what a flood of refused attempts costs: once a code is dead, a contact locked or a limit hit, refusals write nothing.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixtures, uniqueMobile } from "../../helpers/api-session.js";
import { type EventReader, openEventReader } from "../../helpers/events.js";
import { allProtocols, expectFailure, expectOk, protocolClient } from "../../helpers/protocol-clients.js";
import { type TestServer, startTestServer } from "../../helpers/test-server.js";
import { expectLimitReached } from "../../helpers/limits.js";
import type Database from "better-sqlite3";
import { openLiveDatabase } from "../../helpers/live-database.js";

const profile = { givenName: "Ada", familyName: "Lovelace" };
const hour = 3_600_000;

let server: TestServer;
let reader: EventReader;
beforeAll(async () => {
  server = await startTestServer();
  reader = openEventReader(server.config.database);
});
afterAll(async () => {
  reader.close();
  await server.close();
});

describe("per user: at most 30 judged verification attempts an hour (default)", () => {
  it.each(allProtocols)("over %s", async (protocol) => {
    const client = protocolClient(protocol, server.url, server.adminToken);
    const added = expectOk(
      await client.call("addHumanUser", {
        profile,
        phone: { phone: uniqueMobile(), returnCode: {} },
        email: { email: `${protocol}-cap@example.com`, returnCode: {} },
      }),
    );
    const userId = added.userId as string;
    const codes = { phone: added.phoneCode as string, email: added.emailCode as string };
    // 30 wrong codes over both channels, a fresh code every 4, a second apart.
    for (let attempt = 0; attempt < 30; attempt++) {
      const channel = attempt % 2 === 0 ? "phone" : "email";
      if (attempt % 8 >= 6) codes[channel] = expectOk(await client.call(channel === "phone" ? "resendPhoneCode" : "resendEmailCode", { userId, returnCode: {} })).verificationCode as string;
      const wrong = expectFailure(await client.call(channel === "phone" ? "verifyPhone" : "verifyEmail", { userId, verificationCode: "wrong" }));
      expect(wrong.errorInfo?.reason).toBe("INVALID_VERIFICATION_CODE");
      server.clock.advance(1000);
    }
    const events = (await reader.events(userId)).length;
    // The 31st attempt is refused before it is judged, even with the right code.
    const refused = await client.call("verifyPhone", { userId, verificationCode: codes.phone });
    expectLimitReached(refused, "verifications_per_user_hour", hour - 30_000, "VERIFY_LIMIT_REACHED");
    expect((await reader.events(userId)).length, "a refused attempt writes no event").toBe(events);

    server.clock.advance(hour - 30_000);
    const fresh = expectOk(await client.call("resendPhoneCode", { userId, returnCode: {} })).verificationCode as string;
    expectOk(await client.call("verifyPhone", { userId, verificationCode: fresh }));
  });
});

/** Rows in the tables calls write to, and the database's size, read through a second handle. */
function footprintOf(database: Database.Database) {
  return {
    rows: database
      .prepare(
        "SELECT (SELECT count(*) FROM events) + (SELECT count(*) FROM limit_entries) + (SELECT count(*) FROM security_events) + (SELECT count(*) FROM outbox) + (SELECT count(*) FROM users) AS rows",
      )
      .pluck()
      .get() as number,
    bytes: (database.pragma("page_count", { simple: true }) as number) * (database.pragma("page_size", { simple: true }) as number),
  };
}

describe("a flood of refused attempts on one user costs bounded storage", () => {
  it("10,000 wrong codes add no more rows than the README states for a user and an hour (62)", async () => {
    const client = protocolClient("connect-h2", server.url, server.adminToken);
    const userId = expectOk(await client.call("addHumanUser", { profile, phone: { phone: uniqueMobile(), returnCode: {} } })).userId as string;
    const database = openLiveDatabase(server.config.database, { readonly: true });
    const footprint = () => footprintOf(database);
    try {
      const before = footprint();
      const reasons = new Map<string, number>();
      for (let batch = 0; batch < 10_000 / 50; batch++) {
        const results = await Promise.all(
          Array.from({ length: 50 }, () => client.call("verifyPhone", { userId, verificationCode: "000000" })),
        );
        for (const result of results) {
          const reason = expectFailure(result).errorInfo?.reason ?? "";
          reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
        }
      }
      const after = footprint();
      expect(after.rows - before.rows).toBeLessThanOrEqual(62);
      expect(reasons.get("INVALID_VERIFICATION_CODE")).toBeLessThanOrEqual(30);
      expect(after.bytes - before.bytes, "bytes").toBeLessThanOrEqual(64 * 1024);
      console.log(`10,000 refused attempts: ${after.rows - before.rows} rows, ${after.bytes - before.bytes} bytes; answers ${JSON.stringify(Object.fromEntries(reasons))}`);
    } finally {
      database.close();
    }
  });
});

describe("what one caller can add in an hour through sends", () => {
  it("500 sends to new users (the per-caller cap), then refusals that add nothing", async () => {
    const organizationId = await fixtures(server.url, server.adminToken).organization();
    const caller = await fixtures(server.url, server.adminToken).member(organizationId, ["ORG_USER_MANAGER"]);
    const client = protocolClient("connect-h2", server.url, caller.token);
    const database = openLiveDatabase(server.config.database, { readonly: true });
    try {
      const before = footprintOf(database);
      const add = () => client.call("addHumanUser", { profile, organization: { orgId: organizationId }, phone: { phone: uniqueMobile(), sendCode: {} } });
      for (let batch = 0; batch < 10; batch++) {
        for (const result of await Promise.all(Array.from({ length: 50 }, add))) expectOk(result);
      }
      // Every message delivered, and its `code.sent` recorded, before counting: none is written during the refusals.
      while ((await server.outbox.runOnce()) > 0);
      const sent = footprintOf(database);
      for (let i = 0; i < 100; i++) expect(expectFailure(await add()).errorInfo?.metadata.limit).toBe("sends_per_caller_hour");
      const after = footprintOf(database);
      expect(sent.rows - before.rows, "9 rows a send: the user, three events, a message, four limit entries (its caller, organization, destination, user and channel)").toBeLessThanOrEqual(500 * 9);
      expect(after.rows - sent.rows, "refusals: one security log entry").toBeLessThanOrEqual(1);
      console.log(`500 sends by one caller: ${sent.rows - before.rows} rows, ${sent.bytes - before.bytes} bytes; 100 refusals after: ${after.rows - sent.rows} rows`);
    } finally {
      database.close();
    }
  });
});
