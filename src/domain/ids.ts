// ZITADEL-like ids: decimal strings that sort by creation time (milliseconds since 2020, shifted left 22 bits)
// with 22 random low bits, so that ids made in the same millisecond by two processes practically never collide.
import type { RandomIndex } from "./verification-code.js";

const epochMs = Date.UTC(2020, 0, 1);
const randomBits = 22;

export type IdGenerator = () => string;

export function createIdGenerator(now: () => Date, randomIndex: RandomIndex): IdGenerator {
  let last = 0n;
  return () => {
    const time = BigInt(now().getTime() - epochMs) << BigInt(randomBits);
    let id = time | BigInt(randomIndex(2 ** randomBits));
    // Keep ids strictly increasing within a process even if the clock stalls or steps back.
    if (id <= last) id = last + 1n;
    last = id;
    return id.toString();
  };
}
