// UserState as JSON. JSON has no dates: the Date fields are written as milliseconds since the epoch and revived by
// name. States written before 2026-11-27 hold ISO strings there, which revive the same way (and older versions of
// verifyd revive milliseconds as well, since both go through `new Date`).
import type { ContactState, HumanUserState, UserState } from "../domain/user-state.js";

type Json<T> = T extends Date ? string | number : T extends object ? { [K in keyof T]: Json<T[K]> } : T;

/** States stored before service accounts and user statuses existed have neither field: they are active people. */
type StoredState = Json<UserState> | (Omit<Json<HumanUserState>, "kind" | "status"> & { kind?: undefined; status?: undefined });

/**
 * Milliseconds rather than ISO strings, since every change of a user writes its state and most load it first: in a
 * microbenchmark a Date's ISO string took 0.7 to 1.4 µs to write and 0.35 µs to read back, its milliseconds 0.014 and
 * 0.08; and an object with a toJSON method (every Date) sends JSON.stringify down its slow path. A wrong code's state
 * holds four dates.
 */
export function serializeUserState(state: UserState): string {
  const dates = { createdAt: state.createdAt.getTime(), changedAt: state.changedAt.getTime() };
  if (state.kind === "machine") return JSON.stringify({ ...state, ...dates });
  return JSON.stringify({ ...state, ...dates, phone: contactJson(state.phone), email: contactJson(state.email) });
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

function contactJson(contact: ContactState): Json<ContactState> | ContactState {
  const { code, lastFailureAt } = contact;
  if (code === undefined && lastFailureAt === undefined) return contact;
  return {
    ...contact,
    ...(code === undefined ? {} : { code: { ...code, expiresAt: code.expiresAt.getTime() } }),
    ...(lastFailureAt === undefined ? {} : { lastFailureAt: lastFailureAt.getTime() }),
  } as Json<ContactState>;
}

function reviveContact(raw: Json<ContactState>): ContactState {
  const { code, lastFailureAt, ...rest } = raw;
  return {
    ...rest,
    ...(code === undefined ? {} : { code: { ...code, expiresAt: new Date(code.expiresAt) } }),
    ...(lastFailureAt === undefined ? {} : { lastFailureAt: new Date(lastFailureAt) }),
  };
}
