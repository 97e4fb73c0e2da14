// The organization's settings as a user store's load read them along with the user (both dialects join them into the
// load), kept beside the state that load returned: a decision on that state takes its organization's settings from
// here (`settingsReadWith`), as of the same read as the user, instead of reading them in a statement of its own (on
// SQLite a read transaction of its own, on PostgreSQL a round trip).
import { type VerificationSettings, defaultVerificationSettings } from "../domain/organizations/verification-settings.js";
import type { UserState } from "../domain/user-state.js";
import { decodeVerificationSettings } from "./verification-settings-codec.js";

export class SettingsReadWithUsers {
  // A property of the state, not an entry of a WeakMap: V8's scavenges keep the values of a WeakMap that lives in the
  // old generation alive, so every load's settings outlived its call and were promoted, to be freed only by a full
  // collection (README, performance, step 23). Not enumerable, so a state made from this one by spreading it, or
  // written as JSON, does not carry it.
  private readonly key = Symbol("settings read with the user");

  /** `text`: the organization's stored settings as JSON text, null when it never set any. */
  remember(state: UserState, text: string | null): void {
    const settings = text === null ? defaultVerificationSettings : decodeVerificationSettings(JSON.parse(text));
    Object.defineProperty(state, this.key, { value: settings });
  }

  /** Undefined for a state no load of this store returned. */
  of(state: UserState): VerificationSettings | undefined {
    return Reflect.get(state, this.key) as VerificationSettings | undefined;
  }
}
