// Password hashing with argon2id at OWASP's parameters (19 MiB, 2 passes, 1 lane): memory-hard, so guessing a
// stolen hash costs memory as well as time. The native library runs it off the event loop, a few at a time
// (password-work-queue.ts).
import { randomBytes } from "node:crypto";
import { type Algorithm, type Options, hash, parseOptions, verify } from "@node-rs/argon2";
import type { PasswordHasher } from "../domain/credentials/password.js";
import { type PasswordWorkLimits, createPasswordWorkQueue } from "./password-work-queue.js";

// The package declares its enums `const`, which a per-file build cannot inline: Algorithm.Argon2id is 2.
const argon2id: Algorithm = 2;

const options: Options = { algorithm: argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 };

// An imported hash's parameters set the cost of every login of its user: beyond these, a few logins at once could
// exhaust the memory or the threads of the server.
const importLimits = { memoryCostKiB: 65_536, timeCost: 10, parallelism: 4 };

export function createPasswordHasher(limits: PasswordWorkLimits): PasswordHasher {
  const queue = createPasswordWorkQueue(limits);
  // Nobody knows this password, so nothing verifies against it; it only makes "no such user" cost a verify.
  const nobodyHash = hash(randomBytes(32), options);
  return {
    hash: (password) => queue.run(() => hash(password, options)),
    verify: (encodedHash, password) => queue.run(() => verify(encodedHash, password)),
    async verifyNobody(password) {
      const encodedNobody = await nobodyHash;
      await queue.run(() => verify(encodedNobody, password));
      return false;
    },
    accepts(encodedHash) {
      let parsed: ReturnType<typeof parseOptions>;
      try {
        parsed = parseOptions(encodedHash);
      } catch {
        return false;
      }
      return (
        encodedHash.startsWith("$argon2id$") &&
        parsed.algorithm === argon2id &&
        parsed.memoryCost <= importLimits.memoryCostKiB &&
        parsed.timeCost <= importLimits.timeCost &&
        parsed.parallelism <= importLimits.parallelism
      );
    },
  };
}
