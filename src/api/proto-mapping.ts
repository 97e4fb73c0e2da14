// Conversions between the wire messages and the domain's inputs and results.
import { type MessageInitShape, create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { CodeRequest, Verification } from "../domain/contact-decisions.js";
import type { NewPassword } from "../domain/credentials/password.js";
import type { Profile } from "../domain/events.js";
import type { ChangeDetails, CodeResult, NewContact } from "../domain/user-commands.js";
import { type UserState, visibleContact } from "../domain/user-state.js";
import { type Details, DetailsSchema } from "../gen/zitadel/object/v2/object_pb.js";
import type { SendEmailVerificationCode } from "../gen/zitadel/user/v2/email_pb.js";
import type { HashedPassword, Password } from "../gen/zitadel/user/v2/password_pb.js";
import { type SetHumanProfile, type User, UserSchema, UserState as WireUserState } from "../gen/zitadel/user/v2/user_pb.js";

export function toDetails(details: ChangeDetails): Details {
  return create(DetailsSchema, {
    sequence: BigInt(details.sequence),
    changeDate: timestampFromDate(details.changeDate),
    resourceOwner: details.resourceOwner,
  });
}

/** The oneof every Set/Resend request carries; no choice means "send", as in ZITADEL. */
export type WireVerification =
  | { case: "sendCode"; value: { urlTemplate?: string } | SendEmailVerificationCode | object }
  | { case: "returnCode"; value: object }
  | { case: "isVerified"; value: boolean }
  | { case: undefined; value?: undefined };

export function toVerification(wire: WireVerification): Verification {
  switch (wire.case) {
    case "returnCode":
      return { kind: "return" };
    case "isVerified":
      return wire.value ? { kind: "verified" } : { kind: "send" };
    case "sendCode": {
      const urlTemplate = (wire.value as { urlTemplate?: string }).urlTemplate;
      return urlTemplate === undefined ? { kind: "send" } : { kind: "send", urlTemplate };
    }
    default:
      return { kind: "send" };
  }
}

export function toNewContact(value: string, verification: WireVerification): NewContact {
  return { value, verification: toVerification(verification) };
}

/** Resend and Send requests have no is_verified choice. */
export function toCodeRequest(wire: WireVerification): CodeRequest {
  const verification = toVerification(wire);
  return verification.kind === "verified" ? { kind: "send" } : verification;
}

export function toCodeResponse(result: CodeResult): { details: Details; verificationCode?: string } {
  return { details: toDetails(result.details), ...(result.code === undefined ? {} : { verificationCode: result.code }) };
}

export function toProfile(wire: SetHumanProfile): Profile {
  return {
    givenName: wire.givenName,
    familyName: wire.familyName,
    ...(wire.nickName === undefined ? {} : { nickName: wire.nickName }),
    ...(wire.displayName === undefined ? {} : { displayName: wire.displayName }),
    ...(wire.preferredLanguage === undefined ? {} : { preferredLanguage: wire.preferredLanguage }),
    ...(wire.gender === undefined ? {} : { gender: wire.gender }),
  };
}

export function toReadDetails(state: UserState): Details {
  const details = toDetails({ sequence: state.sequence, changeDate: state.changedAt, resourceOwner: state.resourceOwner });
  details.creationDate = timestampFromDate(state.createdAt);
  return details;
}

const wireStates: Record<UserState["status"], WireUserState> = {
  active: WireUserState.ACTIVE,
  inactive: WireUserState.INACTIVE,
  locked: WireUserState.LOCKED,
};

export function toUser(state: UserState): User {
  const identity = {
    userId: state.id,
    state: wireStates[state.status],
    username: state.username,
    loginNames: [state.username],
    preferredLoginName: state.username,
  };
  return create(UserSchema, Object.assign({}, identity, { details: toReadDetails(state), type: userType(state, identity) }));
}

function userType(state: UserState, identity: object): MessageInitShape<typeof UserSchema>["type"] {
  if (state.kind === "machine") {
    return { case: "machine", value: { name: state.name, description: state.description } };
  }
  const phone = visibleContact(state.phone);
  const email = visibleContact(state.email);
  return {
    case: "human",
    value: Object.assign({}, identity, {
      profile: { ...state.profile },
      email: { email: email.value, isVerified: email.isVerified, pendingEmail: email.pending ?? "" },
      phone: { phone: phone.value, isVerified: phone.isVerified, pendingPhone: phone.pending ?? "" },
    }),
  };
}

/** A password or an imported hash, from the oneof AddHumanUser, CreateUser and SetPassword share. */
export function toNewPassword(
  wire: { case: "password"; value?: Password | undefined } | { case: "hashedPassword"; value: HashedPassword } | { case: undefined },
): NewPassword | undefined {
  if (wire.case === undefined || !wire.value) return undefined;
  if (wire.value.changeRequired) {
    throw new ConnectError("change_required is not supported yet", Code.Unimplemented);
  }
  return wire.case === "password"
    ? { kind: "plain", password: wire.value.password }
    : { kind: "hashed", encodedHash: wire.value.hash };
}
