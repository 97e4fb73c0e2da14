// UserState as JSON. JSON has no dates, so the Date fields travel as ISO strings and are revived by name.
import type { ContactState, HumanUserState, UserState } from "../domain/user-state.js";

type Json<T> = T extends Date ? string : T extends object ? { [K in keyof T]: Json<T[K]> } : T;

/** States stored before service accounts and user statuses existed have neither field: they are active people. */
type StoredState = Json<UserState> | (Omit<Json<HumanUserState>, "kind" | "status"> & { kind?: undefined; status?: undefined });

export function serializeUserState(state: UserState): string {
  // Date#toJSON writes the ISO strings.
  return JSON.stringify(state);
}

export function deserializeUserState(text: string): UserState {
  return reviveUserState(JSON.parse(text));
}

/** A state parsed from JSON (PostgreSQL's jsonb arrives parsed), with its dates revived. */
export function reviveUserState(parsed: unknown): UserState {
  const raw = parsed as StoredState;
  const dates = { createdAt: new Date(raw.createdAt), changedAt: new Date(raw.changedAt) };
  if (raw.kind === "machine") return { ...raw, ...dates };
  return {
    ...raw,
    kind: "human",
    status: raw.status ?? "active",
    phone: reviveContact(raw.phone),
    email: reviveContact(raw.email),
    ...dates,
  };
}

function reviveContact(raw: Json<ContactState>): ContactState {
  const { code, lastFailureAt, ...rest } = raw;
  return {
    ...rest,
    ...(code === undefined ? {} : { code: { ...code, expiresAt: new Date(code.expiresAt) } }),
    ...(lastFailureAt === undefined ? {} : { lastFailureAt: new Date(lastFailureAt) }),
  };
}
