// What a log line may show: secrets by field name at any depth, phone numbers and email addresses masked by field
// name and wherever a text quotes them, everything else as it was.
import { DrizzleQueryError } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { maskEmail, maskPhone, redactFields, redactText } from "../../src/redaction.js";

describe("masking contacts", () => {
  it("keeps a number's first two and last two digits and hides its length", () => {
    expect(maskPhone("+41791234567")).toBe("+******67");
    expect(maskPhone("+1 (415) 555-0134")).toBe("+******34");
    expect(maskPhone("%2B41791234567")).toBe("+******67");
    expect(maskPhone("079 123 45 67")).toBe("******67");
    expect(maskPhone("+4179")).toBe("******");
    expect(maskPhone("＋４１７９１２３４５６７")).toBe("+******６７");
  });

  it("masks a number in the digits of any script and with a fullwidth plus, as the server reads it", () => {
    const fullwidth = "＋４１７９１２３４５６７";
    const arabicIndic = "+٤١٧٩١٢٣٤٥٦٧";
    expect(redactFields({ loginName: fullwidth, detail: { loginName: arabicIndic } })).toEqual({
      loginName: "+******６７",
      detail: { loginName: "+******٦٧" },
    });
    expect(redactText(`POST /api/apps/a1/users/PHONE:${fullwidth}/phone-number/verify`)).toBe(
      "POST /api/apps/a1/users/PHONE:+******６７/phone-number/verify",
    );
    expect(redactText(`login failed for ${arabicIndic}`)).toBe("login failed for +******٦٧");
  });

  it("keeps an address's first character and its domain", () => {
    expect(maskEmail("ada.lovelace@example.com")).toBe("a***@example.com");
    expect(maskEmail("@example.com")).toBe("[redacted]");
  });
});

describe("redacting fields", () => {
  it("removes secrets by field name, at any depth and in any spelling", () => {
    const secrets = {
      password: "correct horse battery",
      currentPassword: "Tr0ub4dor&3",
      access_token: "1a0-6ZBY",
      token: "pE3Yk",
      appKey: "Zr4x",
      "x-api-key": "k3y-value",
      keys: "1:AAAA",
      webhookSecret: "whsec_abc",
      authorization: "Bearer abc",
      cookie: "session=abc",
      "webhook-signature": "v1,abc",
      verificationCode: "011871",
      phoneCode: "011871",
      returnCode: "011871",
      otp: "987654",
      text: "Your verification code is 011871.",
      html: "<p>011871</p>",
      body: '{"password":"hunter2"}',
      subject: "Your code 011871",
    };
    const redacted = redactFields({ nested: { deeper: [secrets] }, ...secrets });
    for (const value of Object.values(secrets)) expect(JSON.stringify(redacted)).not.toContain(value);
    expect(redacted.password).toBe("[redacted]");
    expect((redacted.nested as { deeper: Record<string, unknown>[] }).deeper[0]?.token).toBe("[redacted]");
  });

  it("removes the parameters drizzle quotes in a failed query, keeping the query and the cause", () => {
    const tokenHash = "757eebe65a5e6b356956bb55fed4a5839ef98d22404160dc238006fb0e1002a0";
    const failed = new DrizzleQueryError("select id from access_tokens where token_hash = $1", [tokenHash], new Error("connect ECONNREFUSED"));
    const line = JSON.stringify(redactFields({ error: failed }));
    expect(line).not.toContain(tokenHash);
    expect(line).toContain("select id from access_tokens where token_hash = $1");
    expect(line).toContain("params: [redacted]");
    expect(line).toContain("connect ECONNREFUSED");
  });

  it("leaves ids, counts and status codes alone", () => {
    const fields = {
      tokenId: "913491120347816002",
      keyIds: ["1", "2"],
      code: "SQLITE_FULL",
      errorCode: "ECONNRESET",
      status: 400,
      durationMs: 3.2,
      requestId: "f3b0c1d2-1111-4222-8333-944455556666",
      url: "http://127.0.0.1:8080",
      time: new Date(0),
      missing: undefined,
    };
    expect(redactFields(fields)).toEqual(fields);
  });

  it("masks contacts by field name, also numbers without their +, and keeps plain user names", () => {
    expect(
      redactFields({
        phone: "+41791234567",
        destination: "ada@example.com",
        to: "+41 79 123 45 67",
        loginName: "0791234567",
        username: "ada",
        email: "ada@example.com",
        pendingPhone: 41791234567,
      }),
    ).toEqual({
      phone: "+******67",
      destination: "a***@example.com",
      to: "+******67",
      loginName: "******67",
      username: "ada",
      email: "a***@example.com",
      pendingPhone: "******67",
    });
  });

  it("shows an error's name, message, stack, code and cause, redacted like any text", () => {
    const error = Object.assign(new Error("no user +41791234567", { cause: new Error("at ada@example.com") }), { code: "E_X" });
    const redacted = redactFields({ error }).error as Record<string, unknown>;
    expect(redacted).toMatchObject({
      name: "Error",
      message: "no user +******67",
      code: "E_X",
      cause: { name: "Error", message: "at a***@example.com" },
    });
    expect(redacted.stack).toContain("no user +******67");
  });

  it("walks headers and maps, and cuts off binary data, circular structures and deep nesting", () => {
    const circular: Record<string, unknown> = { name: "loop" };
    circular.self = circular;
    let deep: Record<string, unknown> = { end: true };
    for (let level = 0; level < 20; level++) deep = { deep };
    const redacted = redactFields({
      headers: new Headers({ authorization: "Bearer abc", "user-agent": "curl/8" }),
      map: new Map([["token", "abc"]]),
      key: undefined,
      bytes: new Uint8Array(32),
      circular,
      deep,
    });
    expect(redacted.headers).toEqual({ authorization: "[redacted]", "user-agent": "curl/8" });
    expect(redacted.map).toEqual({ token: "[redacted]" });
    expect(redacted.bytes).toBe("[32 bytes]");
    expect(redacted.circular).toEqual({ name: "loop", self: "[circular]" });
    expect(JSON.stringify(redacted.deep)).toContain("[too deep]");
  });
});

describe("redacting text", () => {
  it.each([
    ["sent to +41791234567 at once", "sent to +******67 at once"],
    ["The 'To' number +41 (0)79 123 45 67 is not valid", "The 'To' number +******67 is not valid"],
    ["GET /api/apps/3f9c0a71/users/PHONE:%2B41791234567", "GET /api/apps/3f9c0a71/users/PHONE:+******67"],
    ["550 <ada.lovelace@example.com>: mailbox unavailable", "550 <a***@example.com>: mailbox unavailable"],
    ["/api/apps/3f9c0a71/users/EMAIL:ada%40example.com", "/api/apps/3f9c0a71/users/EMAIL:a***@example.com"],
    ["connect smtps://mailer:s3cret@smtp.example.com:465 failed", "connect smtps://[redacted]@smtp.example.com:465 failed"],
    ["POST https://hooks.example.com/sms?token=abc123&region=eu", "POST https://hooks.example.com/sms?token=[redacted]&region=eu"],
    ["header was Bearer pE3Yk0aB9cD8eF7gH6iJ5kL4", "header was Bearer [redacted]"],
    // Shorter than 16 characters, but user:pass (noted by a data-protection trial).
    ["x-other: Basic dXNlcjpwYXNz", "x-other: Basic [redacted]"],
    ["auth=Basic dXNlcjpwYXNz;", "auth=Basic [redacted];"],
    ["secret whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "secret whsec_[redacted]"],
  ])("%s", (text, expected) => {
    expect(redactText(text)).toBe(expected);
  });

  // A client chooses what a log line quotes (a login name of up to --max-body-bytes): before, one such name of 64 KiB
  // held the event loop for seconds per line, and `;token` repeated for 15 KB for 25 s (a white-box review's finding).
  // Each text here is about 256 KB: a pattern that backtracks over it from every position does not finish.
  it.each([
    ["letters before a %", `${"a".repeat(256_000)}%`],
    ["a parameter-like run", ";token".repeat(43_000)],
    ["semicolons before a name", `${";".repeat(256_000)}token`],
    ["percent-encoded at signs", "%40".repeat(85_000)],
    ["dotted letters", `${"a.".repeat(128_000)}%`],
    ["a scheme-like run", `${"a+".repeat(128_000)}:`],
    ["signs and digits", "+1".repeat(128_000)],
  ])("redacts %s of a quarter of a megabyte", (_shape, text) => {
    expect(redactText(text)).toHaveLength(text.length);
    expect(redactText(`${text} ada@example.com`)).toMatch(/ a\*\*\*@example\.com$/);
  });

  it("leaves texts without secrets or contacts alone", () => {
    const texts = [
      "verifyd listening",
      "Basic authentication is not supported",
      "storage failing: calls answer Unavailable until writes work again",
      "2026-11-25T18:07:34.817+01:00",
      "user 913491119095481834 changed",
      "GET /readyz?connect=v1",
    ];
    for (const text of texts) expect(redactText(text)).toBe(text);
  });
});
