// The organization's settings as a user store's load read them along with the user (both dialects join them into the
// load), kept beside the state that load returned: a decision on that state takes its organization's settings from
// here (`settingsReadWith`), as of the same read as the user, instead of reading them in a statement of its own (on
// SQLite a read transaction of its own, on PostgreSQL a round trip).
import { type VerificationSettings, defaultVerificationSettings } from "../domain/organizations/verification-settings.js";
import type { UserState } from "../domain/user-state.js";
import { decodeVerificationSettings } from "./verification-settings-codec.js";

export class SettingsReadWithUsers {
  private readonly byState = new WeakMap<UserState, VerificationSettings>();

  /** `text`: the organization's stored settings as JSON text, null when it never set any. */
  remember(state: UserState, text: string | null): void {
    this.byState.set(state, text === null ? defaultVerificationSettings : decodeVerificationSettings(JSON.parse(text)));
  }

  /** Undefined for a state no load of this store returned. */
  of(state: UserState): VerificationSettings | undefined {
    return this.byState.get(state);
  }
}
