// Binds each key id to its key for good: the database records a fingerprint of every key it is used with, and a
// keyring holding another key under a recorded id is refused at start. Without this, a lost keyring.json replaced
// by a fresh one under the same id would make every stored code a "wrong code" and spend the person's attempts.
import { createHmac } from "node:crypto";
import { StartupError } from "../startup-error.js";
import type { Keyring } from "./keyring.js";

/** The keys a database has been used with, as fingerprints by key id. */
export interface KeyRecords {
  fingerprints(): Promise<ReadonlyMap<string, string>>;
  /** Records the fingerprints of ids not recorded yet; a recorded id keeps its fingerprint. */
  record(fingerprints: ReadonlyMap<string, string>, at: Date): Promise<void>;
  /** Whether anything here was made with some keyring: recorded keys, or users from before keys were recorded. */
  holdsData(): Promise<boolean>;
}

export interface KeyringCheck {
  /** Recorded ids the keyring no longer has, when it has none of them: a full rotation, old codes now expired. */
  retiredIds: string[];
}

// A key derived for this purpose alone, MACing a constant: the fingerprint says nothing about the master key or
// any key derived from it for codes or messages.
const purpose = "key-fingerprint-v1";

export function keyFingerprint(keyring: Keyring, keyId: string): string {
  const key = keyring.derive(keyId, purpose);
  if (!key) throw new Error(`no key "${keyId}" in the keyring`);
  return createHmac("sha256", key).update("verifyd key fingerprint").digest("base64url");
}

/** Records the keyring's keys and refuses it if one of its ids was recorded with another key. */
export async function checkKeyring(keyring: Keyring, source: string, records: KeyRecords, now: Date): Promise<KeyringCheck> {
  const before = await records.fingerprints();
  const own = new Map(keyring.ids.map((id) => [id, keyFingerprint(keyring, id)]));
  await records.record(own, now);
  // Read again: a process starting at the same time may have recorded another key under one of these ids first.
  const recorded = await records.fingerprints();
  const mismatched = keyring.ids.find((id) => recorded.get(id) !== own.get(id));
  if (mismatched !== undefined) {
    throw new StartupError(
      `key "${mismatched}" of the keyring in ${source} is not the key "${mismatched}" this database was used with, so the codes and messages stored with it cannot be checked; restore the keyring that belongs to this database, or give the new key a new id`,
    );
  }
  const fullRotation = before.size > 0 && keyring.ids.every((id) => !before.has(id));
  return { retiredIds: fullRotation ? [...before.keys()] : [] };
}
