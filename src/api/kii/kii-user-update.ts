// POST /api/apps/{appID}/users/me and /users/{userID} (Kii's UserUpdateRequest): a new phone number or email address,
// as SetPhone / SetEmail with send_code. The verified address keeps logging in until the new one is verified, then
// the new one replaces it. Repeating the address the user already has changes nothing, as an update of an unchanged
// field should. The phone number changes before the email address: a refusal of the second leaves the first changed.
import { type Channel, DomainError } from "../../domain/errors.js";
import type { PhonePolicy } from "../../domain/phone-number.js";
import type { UserCommands } from "../../domain/user-commands.js";
import type { KiiUserOperation } from "./kii-access.js";
import { type KiiCallDeps, runKiiCall } from "./kii-call.js";
import type { KiiCaller } from "./kii-caller.js";
import { kiiPhoneNumber, refuseCountryWithoutPhoneNumber } from "./kii-phone-number.js";
import { type KiiBody, readKiiFields } from "./kii-request-fields.js";
import { type KiiTargetUserDeps, type KiiUserRef, authorizedKiiUser, userIdOf } from "./kii-target-user.js";

export interface KiiUserUpdateDeps extends KiiTargetUserDeps, KiiCallDeps {
  commands: KiiTargetUserDeps["commands"] & Pick<UserCommands, "setContact">;
  phonePolicy: PhonePolicy;
}

const text = { type: "string", maxLength: 200 } as const;

const updateFields = { phoneNumber: text, emailAddress: text, country: { type: "string", maxLength: 2 } } as const;

/** What an update may not change here, and why: refused by name rather than ignored. */
const unchangeable = {
  displayName: "verifyd cannot change a display name yet",
  locale: "verifyd cannot change a locale yet",
  loginName: "a login name cannot be changed",
  password: "a password is not changed by an update; use ZITADEL's SetPassword",
  phoneNumberVerified: "read-only: a phone number is verified with its code",
  emailAddressVerified: "read-only: an email address is verified with its code",
  userID: "read-only",
  internalUserID: "read-only",
};

/** When the user was last changed, in milliseconds, as Kii's answer gives it. */
export async function updateKiiUser(
  deps: KiiUserUpdateDeps,
  caller: KiiCaller,
  ref: KiiUserRef,
  body: KiiBody,
): Promise<{ modifiedAt: number }> {
  const { phoneNumber, emailAddress, country } = readKiiFields(body, updateFields, unchangeable);
  refuseCountryWithoutPhoneNumber(country, phoneNumber);
  return runKiiCall(deps, "UpdateUser", caller, async (context, actor) => {
    const userId = userIdOf(caller, ref);
    context.userId = userId;
    const phone = phoneNumber === undefined ? undefined : kiiPhoneNumber(phoneNumber, country, deps.phonePolicy);
    const changes: [Channel, string][] = [];
    if (phone !== undefined) changes.push(["phone", phone]);
    if (emailAddress !== undefined) changes.push(["email", emailAddress]);
    context.addresses = Object.fromEntries(changes);
    const operations: KiiUserOperation[] =
      changes.length === 0 ? [{ kind: "update" }] : changes.map(([channel]) => ({ kind: "update", channel }));
    let modifiedAt = (await authorizedKiiUser(deps, caller, userId, operations)).changedAt;
    for (const [channel, value] of changes) {
      context.channel = channel;
      try {
        const contact = { value, verification: { kind: "send" } } as const;
        const { details } = await deps.commands.setContact(userId, channel, contact, actor);
        modifiedAt = details.changeDate;
      } catch (error) {
        if (!(error instanceof DomainError && error.reason === "NOT_CHANGED")) throw error;
      }
    }
    return { modifiedAt: modifiedAt.getTime() };
  });
}
