// A user as Kii's UserDataRetrievalResponse (and RegistrationResponse) shows it. While a changed address awaits
// verification, the verified one stays in phoneNumber / emailAddress (it still logs in) and the new one is in
// _phoneNumberPending / _emailAddressPending, the names Kii's own SDKs read.
import type { HumanUserState } from "../../domain/user-state.js";
import { visibleContact } from "../../domain/user-state.js";

export type KiiUser = { userID: string } & Record<string, unknown>;

export function kiiUserOf(state: HumanUserState): KiiUser {
  const phone = visibleContact(state.phone);
  const email = visibleContact(state.email);
  const { displayName, preferredLanguage } = state.profile;
  return {
    userID: state.id,
    // Kii's internal numeric id; ours are numeric already, and kept as text since they exceed JSON's safe integers.
    internalUserID: state.id,
    // A user registered without one has its id as username, which is no Kii login name.
    ...(state.username === state.id ? {} : { loginName: state.username }),
    ...(displayName ? { displayName } : {}),
    ...(preferredLanguage ? { locale: preferredLanguage } : {}),
    ...(email.value ? { emailAddress: email.value } : {}),
    emailAddressVerified: email.isVerified,
    ...(email.pending ? { _emailAddressPending: email.pending } : {}),
    ...(phone.value ? { phoneNumber: phone.value } : {}),
    phoneNumberVerified: phone.isVerified,
    ...(phone.pending ? { _phoneNumberPending: phone.pending } : {}),
    _hasPassword: state.passwordHash !== undefined,
    _disabled: state.status !== "active",
  };
}
