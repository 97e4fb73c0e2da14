// VerifyPhone and AddHumanUser as a Node team writes them by hand, the same for the grpc-js and the Fastify peer: a
// bearer token looked up by its hash, the length rules, one prepared statement to load the user, a keyed HMAC of the
// code compared in constant time, and one transaction that appends the event and updates the user row (for a new
// user: the user row and the sealed message in the outbox). Errors carry gRPC codes; each transport maps them.
import { randomInt, randomUUID, timingSafeEqual } from "node:crypto";
import type Database from "better-sqlite3";
import { parsePhoneNumberWithError } from "libphonenumber-js/max";
import { type PeerKeys, tokenHash } from "./peer-keys.js";
import { type PeerUserRow, peerOrganization } from "./peer-store.js";

export const grpcCode = { invalidArgument: 3, notFound: 5, failedPrecondition: 9, aborted: 10, unauthenticated: 16 } as const;

export type Answer<T> = { ok: true; value: T } | { ok: false; code: number; message: string };

export interface Details {
  sequence: number;
  changeDate: Date;
  resourceOwner: string;
}

export interface NewHumanUser {
  userId: string;
  details: Details;
}

const maxAttempts = 5;
const codeTtlMs = 10 * 60_000;
// verifyd's rule too: only numbers that can receive an SMS.
const smsCapable = new Set(["MOBILE", "FIXED_LINE_OR_MOBILE"]);

export class PeerService {
  private readonly selectToken;
  private readonly selectUser;
  private readonly insertEvent;
  private readonly markVerified;
  private readonly countFailure;
  private readonly insertUser;
  private readonly insertMessage;
  private readonly judge;
  private readonly add;

  constructor(
    db: Database.Database,
    private readonly keys: PeerKeys,
  ) {
    this.selectToken = db.prepare<[string, number], { user_id: string }>("SELECT user_id FROM tokens WHERE hash = ? AND expires_at > ?");
    this.selectUser = db.prepare<[string], PeerUserRow>(
      "SELECT org_id, phone, phone_verified, code_hash, code_expires_at, code_attempts, sequence FROM users WHERE id = ?",
    );
    this.insertEvent = db.prepare("INSERT INTO events (user_id, sequence, type, payload, created_at) VALUES (?, ?, ?, ?, ?)");
    // Guarded by the sequence the decision was made on: a concurrent change makes the update miss.
    this.markVerified = db.prepare(
      "UPDATE users SET phone_verified = 1, code_hash = NULL, sequence = ?, changed_at = ? WHERE id = ? AND sequence = ?",
    );
    this.countFailure = db.prepare(
      "UPDATE users SET code_attempts = code_attempts + 1, sequence = ?, changed_at = ? WHERE id = ? AND sequence = ?",
    );
    this.insertUser = db.prepare(
      "INSERT INTO users (id, org_id, given_name, family_name, phone, code_hash, code_expires_at, sequence, changed_at) VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?)",
    );
    this.insertMessage = db.prepare("INSERT INTO outbox (id, user_id, sealed, created_at) VALUES (?, ?, ?, ?)");
    this.judge = db
      .transaction((userId: string, user: PeerUserRow, verified: boolean, now: number): boolean => {
        const sequence = user.sequence + 1;
        const [type, payload] = verified ? ["phone.verified", { phone: user.phone }] : ["phone.verification.failed", { reason: "invalid code" }];
        this.insertEvent.run(userId, sequence, type, JSON.stringify(payload), now);
        return (verified ? this.markVerified : this.countFailure).run(sequence, now, userId, user.sequence).changes === 1;
      })
      .immediate;
    this.add = db
      .transaction((userId: string, profile: { givenName: string; familyName: string }, phone: string, hash: Buffer, sealed: Buffer, now: number) => {
        this.insertUser.run(userId, peerOrganization, profile.givenName, profile.familyName, phone, hash, now + codeTtlMs, now);
        this.insertMessage.run(randomUUID(), userId, sealed, now);
      })
      .immediate;
  }

  verifyPhone(authorization: string | undefined, userId: unknown, code: unknown): Answer<Details> {
    if (!this.authenticated(authorization)) return refuse(grpcCode.unauthenticated, "a valid bearer token is required");
    if (!isText(userId, 200) || !isText(code, 20)) return refuse(grpcCode.invalidArgument, "user_id and verification_code are required");
    const user = this.selectUser.get(userId);
    if (!user) return refuse(grpcCode.notFound, "user not found");
    const now = Date.now();
    if (user.code_hash === null || user.phone === null || user.phone_verified === 1) return refuse(grpcCode.failedPrecondition, "no code pending");
    if ((user.code_expires_at ?? 0) <= now) return refuse(grpcCode.failedPrecondition, "code expired");
    if (user.code_attempts >= maxAttempts) return refuse(grpcCode.failedPrecondition, "too many attempts");
    const verified = timingSafeEqual(this.keys.codeHash(userId, user.phone, code), user.code_hash);
    if (!this.judge(userId, user, verified, now)) return refuse(grpcCode.aborted, "concurrent update");
    if (!verified) return refuse(grpcCode.invalidArgument, "invalid code");
    return { ok: true, value: { sequence: user.sequence + 1, changeDate: new Date(now), resourceOwner: user.org_id } };
  }

  /** A human user with a phone number and send_code: the code is drawn, hashed, and its SMS sealed into the outbox. */
  addHumanUser(authorization: string | undefined, request: unknown): Answer<NewHumanUser> {
    if (!this.authenticated(authorization)) return refuse(grpcCode.unauthenticated, "a valid bearer token is required");
    const { profile, phone } = (request ?? {}) as { profile?: { givenName?: unknown; familyName?: unknown }; phone?: { phone?: unknown } };
    const givenName = profile?.givenName;
    const familyName = profile?.familyName;
    const number = phone?.phone;
    if (!isText(givenName, 200) || !isText(familyName, 200) || !isText(number, 200)) {
      return refuse(grpcCode.invalidArgument, "profile.given_name, profile.family_name and phone.phone are required");
    }
    let e164: string;
    try {
      const parsed = parsePhoneNumberWithError(number, { extract: false });
      if (!parsed.isValid() || !smsCapable.has(parsed.getType() ?? "")) return refuse(grpcCode.invalidArgument, "not a mobile number");
      e164 = parsed.number;
    } catch {
      return refuse(grpcCode.invalidArgument, "not a phone number");
    }
    const userId = randomUUID();
    const code = String(randomInt(1_000_000)).padStart(6, "0");
    const sealed = this.keys.seal(JSON.stringify({ to: e164, text: `Your verification code is ${code}.` }));
    const now = Date.now();
    this.add(userId, { givenName, familyName }, e164, this.keys.codeHash(userId, e164, code), sealed, now);
    return { ok: true, value: { userId, details: { sequence: 1, changeDate: new Date(now), resourceOwner: peerOrganization } } };
  }

  private authenticated(authorization: string | undefined): boolean {
    if (!authorization?.startsWith("Bearer ")) return false;
    return this.selectToken.get(tokenHash(authorization.slice(7)), Date.now()) !== undefined;
  }
}

function isText(value: unknown, maxLength: number): value is string {
  return typeof value === "string" && value.length >= 1 && value.length <= maxLength;
}

function refuse(code: number, message: string): Answer<never> {
  return { ok: false, code, message };
}
