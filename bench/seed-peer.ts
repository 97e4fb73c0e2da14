// Seeds a peer's database with the same users as verifyd's (ids, numbers, codes: see bench-users.ts), each as verifyd
// holds it after AddHumanUser: a pending number with a code's hash and two events, and the same bearer token.
import { rmSync } from "node:fs";
import { seededUser } from "./bench-users.js";
import { peerKeys, tokenHash } from "./peers/peer-keys.js";
import { openPeerDatabase, peerOrganization } from "./peers/peer-store.js";

const usersPerTransaction = 10_000;

export function seedPeer(path: string, count: number, secret: Buffer, token: string): void {
  for (const suffix of ["", "-wal", "-shm"]) rmSync(`${path}${suffix}`, { force: true });
  const db = openPeerDatabase(path);
  try {
    db.pragma("synchronous = OFF");
    const keys = peerKeys(secret);
    const now = Date.now();
    const expiresAt = now + 24 * 3_600_000;
    const insertUser = db.prepare(
      "INSERT INTO users (id, org_id, given_name, family_name, phone, code_hash, code_expires_at, sequence, changed_at) VALUES (?, ?, 'Bench', ?, ?, ?, ?, 2, ?)",
    );
    const insertEvent = db.prepare("INSERT INTO events (user_id, sequence, type, payload, created_at) VALUES (?, ?, ?, ?, ?)");
    const seedBatch = db.transaction((first: number, end: number) => {
      for (let index = first; index < end; index++) {
        const { userId, phone, code } = seededUser(index);
        insertUser.run(userId, peerOrganization, `User ${index}`, phone, keys.codeHash(userId, phone, code), expiresAt, now);
        insertEvent.run(userId, 1, "user.added", JSON.stringify({ givenName: "Bench", familyName: `User ${index}`, phone }), now);
        insertEvent.run(userId, 2, "phone.code.added", JSON.stringify({ expiresAt }), now);
      }
    });
    for (let first = 0; first < count; first += usersPerTransaction) seedBatch(first, Math.min(count, first + usersPerTransaction));
    db.prepare("INSERT INTO tokens (hash, user_id, expires_at) VALUES (?, 'bench-admin', ?)").run(tokenHash(token), expiresAt);
    db.pragma("wal_checkpoint(TRUNCATE)");
  } finally {
    db.close();
  }
}
