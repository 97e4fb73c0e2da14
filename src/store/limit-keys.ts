// What both dialects' limit counters know about a limit's key: which keys count sends alone (their indexes hold sends
// only, schema.ts), the columns each key matches and its values in their order, and the refusal to count anything
// else by such a key. The statements that count are each dialect's own.
import type { LimitKey, LimitRule } from "../domain/limits/counted-action.js";

/** Sends are counted by every key, verifications only per user. */
export const sendsOnly: Record<LimitKey["by"], boolean> = {
  "user-channel": false,
  user: false,
  destination: true,
  organization: true,
  caller: true,
};

/** The counted_actions columns (by schema property) each kind of key matches, besides the window, in keyValues' order. */
export const keyColumnNames: Record<LimitKey["by"], readonly ("userId" | "channel" | "destination" | "organizationId" | "callerId")[]> = {
  "user-channel": ["userId", "channel"],
  user: ["userId"],
  destination: ["destination"],
  organization: ["organizationId"],
  caller: ["callerId"],
};

/** The key's values in the order of its columns. */
export function keyValues(key: LimitKey): string[] {
  switch (key.by) {
    case "user-channel":
      return [key.userId, key.channel];
    case "user":
      return [key.userId];
    case "destination":
      return [key.destination];
    case "organization":
      return [key.organizationId];
    case "caller":
      return [key.callerId];
  }
}

/** Throws for a rule that counts other actions than sends by a key whose index holds sends alone. */
export function assertCountable({ key, action }: LimitRule): void {
  // Counting anything else by this key needs an index (and in SQLite a statement) for it.
  if (sendsOnly[key.by] && action !== "send") throw new Error(`limits count ${key.by} for sends only, not for ${action}`);
}
