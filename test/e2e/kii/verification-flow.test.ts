// The flows of Kii Cloud's verification pages run against verifyd with only the base URL replaced: register with a
// phone number (or an email address) under the app's Basic credentials, get the user's token with Basic
// appID:<anything>, verify with that token at /users/me/…/verify in Kii's request type, log in by the address only
// once it is verified, change it (the old one keeps logging in until the new one is verified), resend (204), and
// meet the cooldown (429).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixtures, unique } from "../../helpers/api-session.js";
import { bearerOf, codeSentDuring, createKiiApp, deliveredCodes, type KiiApp, kiiChannels, registrationRequestType, verificationRequestType } from "../../helpers/kii-client.js";
import { type TestServer, startTestServer } from "../../helpers/test-server.js";

let server: TestServer;
let app: KiiApp;

beforeAll(async () => {
  server = await startTestServer();
  app = await createKiiApp(server, await fixtures(server.url, server.adminToken).organization(unique("kii")));
});
afterAll(async () => {
  await server?.close();
});

const channels = kiiChannels;

const password = "123ABC-long-enough";
const cooldownMs = 60_000;

describe.each(channels)("Kii's $name verification flow", (channel) => {
  it("registers, logs in by name, verifies with the user's token, and only then logs in by the address", async () => {
    const loginName = unique("user");
    const address = channel.fresh();
    let registered: Awaited<ReturnType<KiiApp["call"]>> | undefined;
    const code = await codeSentDuring(server, address, async () => {
      registered = await app.call("POST", "/users", {
        authorization: app.basic,
        contentType: registrationRequestType,
        body: { loginName, displayName: "Person Test", password, [channel.field]: address },
      });
    });
    expect(registered?.status).toBe(201);
    expect(registered?.contentType).toBe("application/vnd.kii.RegistrationResponse+json");
    const userId = registered?.body.userID as string;
    expect(registered?.headers.get("location")).toBe(`/api/apps/${app.appId}/users/${userId}`);
    expect(registered?.body).toMatchObject({ userID: userId, loginName, displayName: "Person Test", [channel.field]: address, [channel.verified]: false, _hasPassword: true });

    expect((await app.login(address, password)).body).toEqual({ error: "invalid_grant", error_description: expect.any(String) });
    const login = await app.login(loginName, password);
    expect(login.status).toBe(200);
    expect(login.contentType).toBe("application/json");
    expect(login.body).toEqual({ id: userId, access_token: expect.any(String), expires_in: 43_200, token_type: "bearer" });
    const token = bearerOf(login.body.access_token);

    const verified = await app.call("POST", `/users/me/${channel.segment}/verify`, {
      authorization: token,
      contentType: verificationRequestType,
      body: { verificationCode: code },
    });
    expect(verified.status).toBe(200);
    expect(verified.contentType).toBe("application/vnd.kii.AddressVerificationResponse+json");
    expect(verified.body).toEqual({ verificationStatus: "VERIFIED" });

    const me = await app.call("GET", "/users/me", { authorization: token });
    expect(me.status).toBe(200);
    expect(me.contentType).toBe("application/vnd.kii.UserDataRetrievalResponse+json");
    expect(me.body).toMatchObject({ userID: userId, internalUserID: userId, loginName, [channel.field]: address, [channel.verified]: true });
    expect(me.body[channel.pending]).toBeUndefined();
    expect((await app.login(address, password)).body.id).toBe(userId);
  });

  it("keeps the old address for login until the new one is verified, resends (204) and holds to the cooldown (429)", async () => {
    const loginName = unique("user");
    const old = channel.fresh();
    const registration = async () => {
      const answer = await app.call("POST", "/users", { authorization: app.basic, contentType: "application/json", body: { loginName, password, [channel.field]: old } });
      return answer.body.userID as string;
    };
    let userId = "";
    const firstCode = await codeSentDuring(server, old, async () => {
      userId = await registration();
    });
    const token = bearerOf((await app.login(loginName, password)).body.access_token);
    const verify = (verificationCode: string) =>
      app.call("POST", `/users/me/${channel.segment}/verify`, { authorization: token, contentType: verificationRequestType, body: { verificationCode } });
    expect((await verify(firstCode)).status).toBe(200);

    server.clock.advance(cooldownMs);
    const next = channel.fresh();
    let update: Awaited<ReturnType<KiiApp["call"]>> | undefined;
    const changeCode = await codeSentDuring(server, next, async () => {
      update = await app.call("POST", "/users/me", {
        authorization: token,
        contentType: "application/vnd.kii.UserUpdateRequest+json",
        body: { [channel.field]: next },
      });
    });
    expect(update?.status).toBe(200);
    expect(update?.contentType).toBe("application/vnd.kii.UserUpdateResponse+json");
    expect(update?.body).toEqual({ modifiedAt: server.clock.now().getTime() });

    const pending = await app.call("GET", "/users/me", { authorization: token });
    expect(pending.body).toMatchObject({ [channel.field]: old, [channel.verified]: true, [channel.pending]: next });
    expect((await app.login(old, password)).body.id).toBe(userId);
    expect((await app.login(next, password)).status).toBe(400);

    const resend = () =>
      app.call("POST", `/users/me/${channel.segment}/resend-verification`, { authorization: token, contentType: "application/json" });
    const tooSoon = await resend();
    expect(tooSoon.status).toBe(429);
    expect(tooSoon.contentType).toBe("application/vnd.kii.TooManyRequestsException+json");
    expect(tooSoon.headers.get("retry-after")).toBe("60");
    expect(tooSoon.body).toMatchObject({ errorCode: "TOO_MANY_REQUESTS", reason: "SEND_LIMIT_REACHED", limit: "send_cooldown", retryAfterSeconds: 60 });

    server.clock.advance(cooldownMs);
    const mark = server.delivered.length;
    const resent = await resend();
    expect(resent.status).toBe(204);
    expect(resent.body).toBeUndefined();
    const [resentCode] = await deliveredCodes(server, next, mark);
    expect(resentCode).toBeDefined();
    // A resend replaces the code: the one sent with the change no longer verifies.
    if (resentCode !== changeCode) expect((await verify(changeCode)).status).toBe(403);
    expect((await verify(resentCode as string)).body).toEqual({ verificationStatus: "VERIFIED" });

    const after = await app.call("GET", "/users/me", { authorization: token });
    expect(after.body).toMatchObject({ [channel.field]: next, [channel.verified]: true });
    expect(after.body[channel.pending]).toBeUndefined();
    expect((await app.login(next, password)).body.id).toBe(userId);
    expect((await app.login(old, password)).status).toBe(400);
  });
});
