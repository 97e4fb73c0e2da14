// POST /api/apps/{appID}/users: Kii's registration, as AddHumanUser in the app's organization. A phone number or an
// email address starts its verification with a code sent to it, as Kii does with verification on; the user logs in
// by the login name at once, and by the address once it is verified.
import type { Verification } from "../../domain/contact-decisions.js";
import { checkPasswordStrength } from "../../domain/credentials/password.js";
import type { LoginStore } from "../../domain/credentials/password-login.js";
import { mailboxOf, normalizeEmailAddress } from "../../domain/email-address.js";
import { errors } from "../../domain/errors.js";
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
  /** Finds the users of the organization that verified an address. */
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
    // Before the lookup: a registration refused anyway must not tell whether an address is taken, or anyone with the
    // app key (it ships inside the app) could learn which numbers and addresses people verified, at no cost.
    checkPasswordStrength(password);
    await refuseAddressesVerifiedByOthers(deps, caller.app.organizationId, phone, emailAddress);
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
      },
      actor,
    );
    context.userId = userId;
    return kiiUserOf(requireHuman(await deps.commands.getUser(userId)));
  });
}

/**
 * An address another user of the organization verified is refused at once, as Kii refuses it (409): the registrant
 * could never verify it, and its code would go to the person who owns it, spending that person's send limits.
 */
async function refuseAddressesVerifiedByOthers(
  deps: KiiRegistrationDeps,
  organizationId: string,
  phone: string | undefined,
  emailAddress: string | undefined,
): Promise<void> {
  if (phone !== undefined && (await deps.logins.findByLoginName({ key: phone, phone }, organizationId)).length > 0) {
    throw errors.contactInUse("phone");
  }
  if (emailAddress === undefined) return;
  const email = mailboxOf(normalizeEmailAddress(emailAddress));
  if ((await deps.logins.findByLoginName({ key: email, email }, organizationId)).length > 0) throw errors.contactInUse("email");
}
