// UserState as JSON text. JSON has no dates, so the Date fields travel as ISO strings and are revived by name.
import { customType } from "drizzle-orm/sqlite-core";
import type { ContactState, HumanUserState, UserState } from "../domain/user-state.js";

type Json<T> = T extends Date ? string : T extends object ? { [K in keyof T]: Json<T[K]> } : T;

/** States stored before service accounts and user statuses existed have neither field: they are active people. */
type StoredState = Json<UserState> | (Omit<Json<HumanUserState>, "kind" | "status"> & { kind?: undefined; status?: undefined });

export function serializeUserState(state: UserState): string {
  // Date#toJSON writes the ISO strings.
  return JSON.stringify(state);
}

export function deserializeUserState(text: string): UserState {
  const raw = JSON.parse(text) as StoredState;
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

export const userStateColumn = customType<{ data: UserState; driverData: string }>({
  dataType: () => "text",
  toDriver: serializeUserState,
  fromDriver: deserializeUserState,
});
