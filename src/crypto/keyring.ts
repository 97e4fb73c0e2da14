// Secret keys by id: the current one signs and seals, older ones still verify and open, so a rotation never
// invalidates codes already issued. Keys come from config, or from a file in the data directory (keyring-file.ts).
import { type KeyObject, createSecretKey, hkdfSync, randomBytes } from "node:crypto";

export interface Keyring {
  currentId: string;
  /** Every key id, the current one first. */
  ids: readonly string[];
  /** Derives a 32-byte key for one purpose from the master key `keyId`; undefined for an unknown id. */
  derive(keyId: string, purpose: string): KeyObject | undefined;
}

export const masterKeyBytes = 32;

export function createKeyring(currentId: string, masterKeys: ReadonlyMap<string, Buffer>): Keyring {
  if (!masterKeys.has(currentId)) throw new Error(`the current key "${currentId}" is not in the keyring`);
  // Derived once per key and purpose, as KeyObjects, so HMAC and AES calls do not import the key each time.
  const derived = new Map<string, KeyObject>();
  return {
    currentId,
    ids: [currentId, ...[...masterKeys.keys()].filter((id) => id !== currentId)],
    derive(keyId, purpose) {
      const cacheKey = `${keyId}\0${purpose}`;
      const cached = derived.get(cacheKey);
      if (cached) return cached;
      const master = masterKeys.get(keyId);
      if (!master) return undefined;
      const key = createSecretKey(Buffer.from(hkdfSync("sha256", master, Buffer.alloc(0), `verifyd ${purpose}`, 32)));
      derived.set(cacheKey, key);
      return key;
    },
  };
}

/** A keyring of one fresh key under id 1. */
export function freshKeyring(): Keyring {
  return createKeyring("1", new Map([["1", randomBytes(masterKeyBytes)]]));
}

/**
 * Parses "id:base64key,id:base64key" (the first is current). Each key must be 32 random bytes, e.g. from
 * `openssl rand -base64 32`.
 */
export function parseKeyList(value: string): Keyring {
  const entries = value
    .split(",")
    .map((entry) => entry.trim())
    .map((entry, index): [string, Buffer] => {
      // "$(keys generate),$VERIFYD_KEYS" with VERIFYD_KEYS unset: the keys of keyring.json would be left out silently.
      if (entry === "") throw new Error(`entry ${index + 1} is empty (a comma too many, or a variable that is not set?)`);
      const separator = entry.indexOf(":");
      // Name the entry by position: any part of it may be key material, which must not reach logs.
      if (separator <= 0) throw new Error(`entry ${index + 1} must look like id:base64`);
      const key = Buffer.from(entry.slice(separator + 1), "base64");
      if (key.length !== masterKeyBytes) throw new Error(`key "${entry.slice(0, separator)}" must be ${masterKeyBytes} bytes`);
      return [entry.slice(0, separator), key];
    });
  const first = entries[0];
  if (!first) throw new Error("the key list is empty");
  // A Map would keep the last of two keys under one id: which one seals, and which opens, would hang on the order.
  const repeated = entries.find(([id], index) => entries.findIndex(([other]) => other === id) !== index);
  if (repeated) throw new Error(`key "${repeated[0]}" is given twice; each id names one key`);
  return createKeyring(first[0], new Map(entries));
}
