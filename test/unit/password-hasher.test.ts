// argon2id through the PasswordHasher port, and the rules for new passwords.
import { describe, expect, it } from "vitest";
import { createPasswordHasher } from "../../src/crypto/password-hasher.js";
import { encodeNewPassword } from "../../src/domain/credentials/password.js";

const hasher = createPasswordHasher({ atOnce: 2, waiting: 1_000 });

describe("password hasher", () => {
  it("hashes with argon2id at OWASP's parameters and a fresh salt, and verifies only the same password", async () => {
    const first = await hasher.hash("correct horse");
    const second = await hasher.hash("correct horse");
    expect(first).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(second).not.toBe(first);
    expect(await hasher.verify(first, "correct horse")).toBe(true);
    expect(await hasher.verify(first, "correct horsE")).toBe(false);
  });

  it("verifies nobody's password, at the cost of a real verify", async () => {
    const hash = await hasher.hash("correct horse");
    const timed = async (work: () => Promise<boolean>) => {
      const start = process.hrtime.bigint();
      expect(await work()).toBe(false);
      return Number(process.hrtime.bigint() - start) / 1e6;
    };
    await hasher.verifyNobody("warm up");
    const real = await timed(() => hasher.verify(hash, "wrong horse"));
    const nobody = await timed(() => hasher.verifyNobody("wrong horse"));
    // Same parameters, so the same work; the margin only absorbs scheduling noise.
    expect(nobody).toBeGreaterThan(real / 3);
  });

  it("accepts imported argon2id hashes only, within limits that keep a login affordable", () => {
    const salt = "J94pRI2vx1ZaRrKgLwr86w$nHGBRujFZAezZ0bhNRqh7DpjG3uVze61OUHVb8fPEW0";
    expect(hasher.accepts(`$argon2id$v=19$m=19456,t=2,p=1$${salt}`)).toBe(true);
    expect(hasher.accepts(`$argon2id$v=19$m=65536,t=3,p=4$${salt}`)).toBe(true);
    expect(hasher.accepts(`$argon2i$v=19$m=19456,t=2,p=1$${salt}`)).toBe(false);
    expect(hasher.accepts(`$argon2id$v=19$m=2097152,t=1,p=4$${salt}`)).toBe(false);
    expect(hasher.accepts(`$argon2id$v=19$m=19456,t=50,p=1$${salt}`)).toBe(false);
    expect(hasher.accepts("$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW")).toBe(false);
    expect(hasher.accepts("")).toBe(false);
  });
});

describe("new passwords", () => {
  it("are hashed when plain, kept when an accepted hash", async () => {
    const encoded = await encodeNewPassword({ kind: "plain", password: "correct horse" }, hasher);
    expect(await hasher.verify(encoded, "correct horse")).toBe(true);
    expect(await encodeNewPassword({ kind: "hashed", encodedHash: encoded }, hasher)).toBe(encoded);
  });

  it("need 8 characters: code points, not UTF-16 units", async () => {
    await expect(encodeNewPassword({ kind: "plain", password: "1234567" }, hasher)).rejects.toMatchObject({
      reason: "PASSWORD_TOO_WEAK",
      metadata: { detail: "at least 8 characters, got 7" },
    });
    await expect(encodeNewPassword({ kind: "plain", password: "🔑🔑🔑🔑" }, hasher)).rejects.toMatchObject({ reason: "PASSWORD_TOO_WEAK" });
  });
});
