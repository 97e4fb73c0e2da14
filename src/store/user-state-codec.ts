// UserState as JSON text. JSON has no dates, so the Date fields travel as ISO strings and are revived by name.
import { customType } from "drizzle-orm/sqlite-core";
import type { ContactState, UserState } from "../domain/user-state.js";

type Json<T> = T extends Date ? string : T extends object ? { [K in keyof T]: Json<T[K]> } : T;

export function serializeUserState(state: UserState): string {
  // Date#toJSON writes the ISO strings.
  return JSON.stringify(state);
}

export function deserializeUserState(text: string): UserState {
  const raw = JSON.parse(text) as Json<UserState>;
  return {
    ...raw,
    phone: reviveContact(raw.phone),
    email: reviveContact(raw.email),
    createdAt: new Date(raw.createdAt),
    changedAt: new Date(raw.changedAt),
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
