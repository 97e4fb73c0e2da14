// How both dialects name what a limit rule counts: a series, the actions of one kind sharing one key (the sends of one
// caller, the verifications of one user). Each dialect keeps one numbered row per action and series (schema.ts), and
// its migration from the earlier table of actions builds these names in SQL: keep the two in step.
import type { LimitRule } from "../domain/limits/counted-action.js";

/**
 * The action, the kind of key, then the key's values with the free-form one (an id or a destination) last, so that
 * no two keys share a name.
 */
export function seriesOf({ action, key }: Pick<LimitRule, "action" | "key">): string {
  switch (key.by) {
    case "user-channel":
      return `${action}/user-channel/${key.channel}/${key.userId}`;
    case "user":
      return `${action}/user/${key.userId}`;
    case "destination":
      return `${action}/destination/${key.destination}`;
    case "organization":
      return `${action}/organization/${key.organizationId}`;
    case "caller":
      return `${action}/caller/${key.callerId}`;
  }
}

/** Each series the rules count, once: a destination's short and daily limits count the same series. */
export function distinctSeries(rules: readonly LimitRule[]): string[] {
  return [...new Set(rules.map(seriesOf))];
}
