import { describe, expect, it } from "vitest";
import { lockedUntil } from "../../src/domain/contact-decisions.js";
import { normalizeEmailAddress } from "../../src/domain/email-address.js";
import { createIdGenerator } from "../../src/domain/ids.js";
import { normalizePhoneNumber } from "../../src/domain/phone-number.js";
import { renderUrlTemplate } from "../../src/domain/url-template.js";
import { generateCode } from "../../src/domain/verification-code.js";

const strict = { allowLandline: false };

describe("phone numbers", () => {
  it("stores valid mobile numbers in E.164", () => {
    expect(normalizePhoneNumber("+41 79 123 45 67", strict)).toBe("+41791234567");
    expect(normalizePhoneNumber("+1 (201) 555-0123", strict)).toBe("+12015550123");
  });

  it("requires international format unless a default region is configured", () => {
    expect(() => normalizePhoneNumber("079 123 45 67", strict)).toThrow(/Phone is invalid/);
    expect(normalizePhoneNumber("079 123 45 67", { ...strict, defaultRegion: "CH" })).toBe("+41791234567");
  });

  it("checks numbers against the numbering plan, not only their shape", () => {
    expect(() => normalizePhoneNumber("+41 79 123", strict)).toThrow(/PHONE-so0wa/);
    expect(() => normalizePhoneNumber("+999 1234567", strict)).toThrow(/PHONE-so0wa/);
  });

  it("refuses fixed-line numbers for SMS unless allowed", () => {
    expect(() => normalizePhoneNumber("+41 44 234 56 78", strict)).toThrow(/PHONE-so0wa/);
    expect(normalizePhoneNumber("+41 44 234 56 78", { allowLandline: true })).toBe("+41442345678");
  });

  it.each([
    "+41791112238abc",
    "+41 79 111 22 37 call me",
    "Phone: +41 79 111 22 38",
    "tel:+41791112238",
    "+41 79 111 22 38 ext. 12",
    "+41 79 111 22 38 x12",
    "+41 79 111 22 38 #12",
    "+41791112238;ext=12",
    "+41791112238;isub=12",
    "+41791112238\u0000",
    "+41 79\n111 22 38",
    "+41791112238\u200b",
  ])("refuses %j: anything besides the number would be dropped silently", (input) => {
    expect(() => normalizePhoneNumber(input, strict)).toThrow(/PHONE-so0wa/);
  });

  it("takes the usual ways of writing a number", () => {
    for (const input of ["+41 (0)79 111 22 38", "+41-79-111-22-38", "+41.79.111.22.38", "+41 79/111 22 38", "+41\u00a079 111\u201122 38"]) {
      expect(normalizePhoneNumber(input, strict), input).toBe("+41791112238");
    }
  });

  it("refuses premium-rate, toll-free and shared-cost numbers, which invite toll fraud", () => {
    for (const number of ["+1 900 555 0100", "+1 800 555 0100", "+41 900 123 456", "+41 840 123 456"]) {
      expect(() => normalizePhoneNumber(number, { allowLandline: true }), number).toThrow(/PHONE-so0wa/);
    }
  });
});

describe("lockouts", () => {
  const policy = { maxConsecutiveFailures: 100, lockoutMs: 3_600_000 };
  const lastFailureAt = new Date(Date.UTC(2026, 0, 1));
  const after = (streak: number, lockoutMs = policy.lockoutMs) =>
    lockedUntil({ failureStreak: streak, lastFailureAt }, { ...policy, lockoutMs });
  const hours = (date: Date | undefined) => ((date?.getTime() ?? Number.NaN) - lastFailureAt.getTime()) / 3_600_000;

  it("start at the ceiling and double with every wrong code after it, counted from the last one", () => {
    expect(after(99)).toBeUndefined();
    expect([100, 101, 102, 103, 112].map((streak) => hours(after(streak)))).toEqual([1, 2, 4, 8, 4096]);
  });

  it("allow at most 113 guesses in a year with the defaults: 100, then one after each of 1 + 2 + … + 4096 hours", () => {
    let guesses = 100;
    let at = 0;
    for (let streak = 100; ; streak++) {
      at += hours(after(streak));
      if (at > 365 * 24) break;
      guesses++;
    }
    expect(guesses).toBe(113);
  });

  it("stay a valid date however long the streak, and never lock with a zero lockout", () => {
    const far = after(100_000);
    expect(Number.isFinite(far?.getTime())).toBe(true);
    expect(far?.getTime()).toBeGreaterThanOrEqual(after(160)?.getTime() ?? Number.NaN);
    expect(after(100_000, 0)).toEqual(lastFailureAt);
  });
});

describe("email addresses", () => {
  it("lower-cases the domain but keeps the local part", () => {
    expect(normalizeEmailAddress(" Ada.Lovelace@Example.COM ")).toBe("Ada.Lovelace@example.com");
  });

  it.each(["", "plain", "@example.com", "a@", "a@b", "a..b@example.com", "a@-x.com", `${"a".repeat(65)}@example.com`])(
    "refuses %j",
    (address) => {
      expect(() => normalizeEmailAddress(address)).toThrow(/EMAIL-599BI/);
    },
  );
});

describe("codes", () => {
  it("draws each character from the alphabet through the random source", () => {
    const draws: number[] = [];
    const code = generateCode({ length: 6, alphabet: "0123456789" }, (max) => {
      draws.push(max);
      return draws.length % max;
    });
    expect(code).toBe("123456");
    expect(draws).toEqual([10, 10, 10, 10, 10, 10]);
  });

  it("treats the alphabet as code points", () => {
    expect(generateCode({ length: 3, alphabet: "😀😁" }, () => 1)).toBe("😁😁😁");
  });
});

describe("ids", () => {
  it("are numeric, unique and increase with time", () => {
    let now = Date.UTC(2026, 0, 1);
    const next = createIdGenerator(() => new Date(now), () => 0);
    const ids = [next(), next()];
    now += 1;
    ids.push(next());
    expect(ids.every((id) => /^\d+$/.test(id))).toBe(true);
    expect(new Set(ids).size).toBe(3);
    expect([...ids].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1))).toEqual(ids);
  });
});

describe("url templates", () => {
  it("allows plain http only to this machine", () => {
    expect(renderUrlTemplate("http://localhost:3000/v?c={{.Code}}", { UserID: "1", OrgID: "2", Code: "3" })).toBe(
      "http://localhost:3000/v?c=3",
    );
  });

  it("takes a host written as a browser reads it: a name in any case, an IP address, a port", () => {
    for (const template of ["HTTPS://App.Example:8443/{{.Code}}", "https://192.0.2.1/{{.Code}}", "https://[2001:db8::1]/{{.Code}}"]) {
      expect(renderUrlTemplate(template, { UserID: "1", OrgID: "2", Code: "3" })).toBe(template.replace("{{.Code}}", "3"));
    }
  });

  it("fills ZITADEL's placeholders, encoded", () => {
    expect(
      renderUrlTemplate("https://app.example/verify?user={{.UserID}}&code={{ .Code }}&org={{.OrgID}}", {
        UserID: "1",
        OrgID: "2",
        Code: "A B",
      }),
    ).toBe("https://app.example/verify?user=1&code=A%20B&org=2");
  });

  it.each([
    "https://x/{{.Nope}}",
    "https://x/{{.Code",
    "not a url {{.Code}}",
    "javascript:alert(1)//{{.Code}}",
    "http://app.example/verify?code={{.Code}}",
    "https:app.example/{{.Code}}",
    "https://app.example?code={{.Code}}",
    "https://app.example:/{{.Code}}",
    "https://a@app.example/{{.Code}}",
    "https://app.example/100%/{{.Code}}",
    "http://127.1/{{.Code}}",
    "https://[0:0::1]/{{.Code}}",
  ])("refuses %j with DOMAIN-oGh5e", (template) => {
    expect(() => renderUrlTemplate(template, { UserID: "1", OrgID: "2", Code: "3" })).toThrow(/DOMAIN-oGh5e/);
  });
});
