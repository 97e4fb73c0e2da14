// POST /api/apps/{appID}/users: Kii's registration, as AddHumanUser in the app's organization. A phone number or an
// email address starts its verification with a code sent to it, as Kii does with verification on; the user logs in
// by the login name at once, and by the address once it is verified.
import type { Verification } from "../../domain/contact-decisions.js";
import { type LoginName, usernameKey } from "../../domain/credentials/login-name.js";
import type { LoginStore } from "../../domain/credentials/password-login.js";
import { mailboxOf, normalizeEmailAddress } from "../../domain/email-address.js";
import type { Channel } from "../../domain/errors.js";
import type { PhonePolicy } from "../../domain/phone-number.js";
import type { UserCommands } from "../../domain/user-commands.js";
import { requireHuman } from "../../domain/users/user-guards.js";
import { kiiRegistrationAccessError } from "./kii-access.js";
import { type KiiCallDeps, runKiiCall } from "./kii-call.js";
import type { KiiCaller } from "./kii-caller.js";
import { kiiInvalidInput } from "./kii-error.js";
import { kiiPhoneNumber, refuseCountryWithoutPhoneNumber } from "./kii-phone-number.js";
import { type KiiBody, readKiiFields, requiredField } from "./kii-request-fields.js";
import { type KiiUser, kiiUserOf } from "./kii-user-representation.js";

export interface KiiRegistrationDeps extends KiiCallDeps {
  commands: Pick<UserCommands, "addHumanUser" | "getUser">;
  /** Finds the users of the organization that verified an address, or have a login name. */
  logins: Pick<LoginStore, "findByLoginName">;
  phonePolicy: PhonePolicy;
}

const text = { type: "string", maxLength: 200 } as const;

const registrationFields = {
  loginName: text,
  password: text,
  displayName: text,
  locale: text,
  country: { type: "string", maxLength: 2 },
  emailAddress: text,
  phoneNumber: text,
  // Declaring an address verified needs user.write in the organization, as is_verified does.
  emailAddressVerified: { type: "boolean" },
  phoneNumberVerified: { type: "boolean" },
} as const;

// Kii's rule for login names. It also keeps out names that read as a phone number or an email address, which would
// log in only as that address once verified, never as a name.
const kiiLoginName = /^[A-Za-z0-9._-]{3,64}$/;

/** The registered user, as Kii's RegistrationResponse shows it. */
export async function registerKiiUser(deps: KiiRegistrationDeps, caller: KiiCaller, body: KiiBody): Promise<KiiUser> {
  const fields = readKiiFields(body, registrationFields);
  const { loginName, displayName, locale, country, emailAddress, phoneNumber } = fields;
  const password = requiredField(fields.password, "password");
  if (loginName === undefined && emailAddress === undefined && phoneNumber === undefined) {
    throw kiiInvalidInput({ loginName: "give a loginName, an emailAddress or a phoneNumber" }, "FIELD_INVALID");
  }
  if (loginName !== undefined && !kiiLoginName.test(loginName)) {
    throw kiiInvalidInput({ loginName: "3 to 64 ASCII letters (A-Z, a-z), digits, '.', '_' or '-'" }, "FIELD_INVALID");
  }
  refuseCountryWithoutPhoneNumber(country, phoneNumber);
  const verification = (verified: boolean | undefined): Verification => (verified ? { kind: "verified" } : { kind: "send" });
  return runKiiCall(deps, "RegisterUser", caller, async (context, actor) => {
    const presetVerified = fields.phoneNumberVerified === true || fields.emailAddressVerified === true;
    const refusal = kiiRegistrationAccessError(caller, presetVerified);
    if (refusal) throw refusal;
    context.loginName = loginName;
    const phone = phoneNumber === undefined ? undefined : kiiPhoneNumber(phoneNumber, country, deps.phonePolicy);
    context.addresses = {
      ...(phone === undefined ? {} : { phone }),
      ...(emailAddress === undefined ? {} : { email: emailAddress }),
    };
    const taken = await contactRefusedAsTaken(deps, caller.app.organizationId, { loginName, phone, emailAddress });
    const { userId } = await deps.commands.addHumanUser(
      {
        ...(loginName === undefined ? { addressAsUsername: false } : { username: loginName }),
        organizationId: caller.app.organizationId,
        // Kii has no given and family names; its display name and locale are the profile's.
        profile: {
          givenName: "",
          familyName: "",
          ...(displayName === undefined ? {} : { displayName }),
          ...(locale === undefined ? {} : { preferredLanguage: locale }),
        },
        ...(phone === undefined ? {} : { phone: { value: phone, verification: verification(fields.phoneNumberVerified) } }),
        ...(emailAddress === undefined
          ? {}
          : { email: { value: emailAddress, verification: verification(fields.emailAddressVerified) } }),
        password: { kind: "plain", password },
        ...(taken === undefined ? {} : { contactVerifiedByAnother: taken }),
      },
      actor,
    );
    context.userId = userId;
    return kiiUserOf(requireHuman(await deps.commands.getUser(userId)));
  });
}

/**
 * The contact Kii refuses the registration for (409), if any: the first that another user of the organization verified,
 * which the registrant could never verify, and whose code would go to the person who owns it. addHumanUser refuses it
 * only where a free address would have its code counted and sent (contactVerifiedByAnother), or anyone with the app
 * key (it ships inside the app) could learn which numbers and addresses people verified, at no cost. A taken login
 * name refuses a registration later still, when the user is written: with one, the registration is left to be refused
 * for the name, as it is with a free address.
 */
async function contactRefusedAsTaken(
  deps: KiiRegistrationDeps,
  organizationId: string,
  registration: { loginName: string | undefined; phone: string | undefined; emailAddress: string | undefined },
): Promise<Channel | undefined> {
  const isTaken = async (name: LoginName) => (await deps.logins.findByLoginName(name, organizationId)).length > 0;
  const taken = await addressVerifiedByAnother(isTaken, registration.phone, registration.emailAddress);
  if (taken === undefined || registration.loginName === undefined) return taken;
  const username = usernameKey(registration.loginName);
  return (await isTaken({ key: username, username })) ? undefined : taken;
}

/** The first of the addresses, phone first, that another user of the organization verified. */
async function addressVerifiedByAnother(
  isTaken: (name: LoginName) => Promise<boolean>,
  phone: string | undefined,
  emailAddress: string | undefined,
): Promise<Channel | undefined> {
  if (phone !== undefined && (await isTaken({ key: phone, phone }))) return "phone";
  if (emailAddress === undefined) return undefined;
  const email = mailboxOf(normalizeEmailAddress(emailAddress));
  return (await isTaken({ key: email, email })) ? "email" : undefined;
}
