// UserState as JSON. JSON has no dates: the Date fields are written as milliseconds since the epoch and revived by
// name. States written before 2026-11-27 hold ISO strings there, which revive the same way (and older versions of
// verifyd revive milliseconds as well, since both go through `new Date`).
import type { ContactState, UserState } from "../domain/user-state.js";

type Json<T> = T extends Date ? string | number : T extends object ? { [K in keyof T]: Json<T[K]> } : T;

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

/**
 * A state parsed from JSON (PostgreSQL's jsonb arrives parsed), with its dates revived. The parsed object is the
 * caller's own, so it is revived in place: copying it with spreads took about half of a load's CPU beyond the parse
 * (README, performance, step 39), and in place, too, a field a newer verifyd wrote stays for this one to write back.
 */
export function reviveUserState(parsed: unknown): UserState {
  const raw = parsed as RevivedInPlace;
  raw.createdAt = new Date(raw.createdAt as number | string);
  raw.changedAt = new Date(raw.changedAt as number | string);
  if (raw.kind === "machine") return raw as unknown as UserState;
  // States stored before service accounts and user statuses existed: active people.
  raw.kind ??= "human";
  raw.status ??= "active";
  reviveContact(raw.phone);
  reviveContact(raw.email);
  return raw as unknown as UserState;
}

/** What reviving changes of a stored state, each date from its stored form (Json<UserState>) to a Date. */
interface RevivedInPlace {
  kind?: string;
  status?: string;
  createdAt: number | string | Date;
  changedAt: number | string | Date;
  phone: ContactRevivedInPlace;
  email: ContactRevivedInPlace;
}

interface ContactRevivedInPlace {
  code?: { expiresAt: number | string | Date };
  lastFailureAt?: number | string | Date;
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

function reviveContact(raw: ContactRevivedInPlace): void {
  if (raw.code !== undefined) raw.code.expiresAt = new Date(raw.code.expiresAt as number | string);
  if (raw.lastFailureAt !== undefined) raw.lastFailureAt = new Date(raw.lastFailureAt as number | string);
}
