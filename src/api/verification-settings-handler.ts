// VerificationSettingsService: an organization's own limits, SMS countries and test contacts. Its members read them;
// its owners replace them, but only an IAM_OWNER may loosen a limit beyond the instance's default.
import type { ServiceImpl } from "@connectrpc/connect";
import { isKnownCallingCode } from "../domain/calling-codes.js";
import { destinationKey } from "../domain/destination-key.js";
import { normalizeEmailAddress } from "../domain/email-address.js";
import { DomainError, errors } from "../domain/errors.js";
import { limitRaiseError } from "../domain/limits/limit-raise.js";
import type { Limits } from "../domain/limits/limits.js";
import {
  type OrganizationSettingsStore,
  type PhoneCountries,
  type TestContact,
  type VerificationSettings,
  findTestContact,
  phoneCountryAllowed,
} from "../domain/organizations/verification-settings.js";
import type { MessageSealer } from "../domain/outgoing-message.js";
import { type PhonePolicy, normalizePhoneNumber, phoneCallingCode } from "../domain/phone-number.js";
import type { Clock, OrganizationStore } from "../domain/ports.js";
import {
  SetVerificationSettingsRequestSchema,
  type TestContact as WireTestContact,
  type VerificationSettingsService,
} from "../gen/verifyd/settings/v1/verification_settings_service_pb.js";
import { authorizeInOrganization } from "./authorization.js";
import { type FieldViolation, refuseFieldViolations } from "./field-violations.js";
import { requestIdIn } from "./request-context.js";
import type { SecurityRecorder } from "./security-recorder.js";
import { settingsSummary, toDomainLimits, toDomainPhoneCountries, toWireSettings } from "./verification-settings-mapping.js";

export interface VerificationSettingsServiceDeps {
  organizations: Pick<OrganizationStore, "find">;
  settings: OrganizationSettingsStore;
  sealer: MessageSealer;
  /** The instance's phone policy: a test number must be one SetPhone would take. */
  phonePolicy: PhonePolicy;
  instanceLimits: Limits;
  testContactsHonoured: boolean;
  clock: Clock;
  recordSecurityEvent: SecurityRecorder;
}

export function createVerificationSettingsHandler(deps: VerificationSettingsServiceDeps): ServiceImpl<typeof VerificationSettingsService> {
  const existingOrganization = async (organizationId: string) => {
    if (!(await deps.organizations.find(organizationId))) throw errors.organizationNotFound();
  };
  const answer = (settings: VerificationSettings) => toWireSettings(settings, deps.instanceLimits, deps.testContactsHonoured);

  return {
    async getVerificationSettings(req, ctx) {
      authorizeInOrganization(ctx, req.organizationId);
      await existingOrganization(req.organizationId);
      return answer(await deps.settings.verificationSettings(req.organizationId));
    },

    async setVerificationSettings(req, ctx) {
      const principal = authorizeInOrganization(ctx, req.organizationId);
      await existingOrganization(req.organizationId);
      const current = await deps.settings.verificationSettings(req.organizationId);
      const limits = toDomainLimits(req.limits);
      const raiseError = limitRaiseError(principal, deps.instanceLimits, current.limits, limits);
      if (raiseError) throw raiseError;
      if (req.testContacts.length > 0 && !deps.testContactsHonoured) throw errors.testContactsDisabled();

      const phoneCountries = toDomainPhoneCountries(req.phoneCountries);
      const violations = unknownCallingCodes(phoneCountries);
      const testContacts = readTestContacts(req.testContacts, { ...deps, phoneCountries, current }, violations);
      refuseFieldViolations(SetVerificationSettingsRequestSchema.name, violations);

      const settings = { limits, phoneCountries, testContacts };
      await deps.settings.setVerificationSettings(req.organizationId, settings, deps.clock.now());
      await deps.recordSecurityEvent({
        kind: "settings.changed",
        actorId: principal.userId,
        organizationId: req.organizationId,
        detail: { organizationId: req.organizationId, ...settingsSummary(settings) },
      }, requestIdIn(ctx.values));
      return answer(settings);
    },
  };
}

function unknownCallingCodes(countries: PhoneCountries): FieldViolation[] {
  if (countries.mode === "all") return [];
  return countries.callingCodes.flatMap((code, index) =>
    isKnownCallingCode(code)
      ? []
      : [{ field: `phone_countries.calling_codes[${index}]`, description: `no country has calling code +${code}`, reason: "calling_code.known" }],
  );
}

interface TestContactContext {
  phonePolicy: PhonePolicy;
  sealer: MessageSealer;
  /** The countries being set: a test number outside them could never be given to SetPhone. */
  phoneCountries: PhoneCountries;
  /** The organization's settings before this call: an empty code keeps a test contact's code. */
  current: VerificationSettings;
}

/** The test contacts normalized, with their codes sealed; adds a violation for each one that cannot be. */
function readTestContacts(wire: readonly WireTestContact[], context: TestContactContext, violations: FieldViolation[]): TestContact[] {
  const contacts: TestContact[] = [];
  const seen = new Set<string>();
  wire.forEach(({ contact, code }, index) => {
    // Validation requires one of the two.
    if (contact.case === undefined) return;
    const field = `test_contacts[${index}].${contact.case}`;
    const refuse = (description: string, reason: string) => void violations.push({ field, description, reason });
    let value: string;
    try {
      value = contact.case === "phone" ? normalizePhoneNumber(contact.value, context.phonePolicy) : normalizeEmailAddress(contact.value);
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      return refuse(explanation(error), error.reason);
    }
    const callingCode = contact.case === "phone" ? phoneCallingCode(value) : undefined;
    if (callingCode !== undefined && !phoneCountryAllowed(context.phoneCountries, callingCode)) {
      return refuse(`phone_countries does not allow calling code +${callingCode}`, "PHONE_COUNTRY_NOT_ALLOWED");
    }
    const key = `${contact.case} ${destinationKey(contact.case, value)}`;
    if (seen.has(key)) return refuse(`${value} is listed more than once`, "test_contact.unique");
    seen.add(key);

    if (code !== "") {
      const sealedCode = context.sealer.seal({ channel: contact.case, destination: value, purpose: "code", subject: "", text: code });
      contacts.push({ channel: contact.case, value, sealedCode });
      return;
    }
    const kept = findTestContact(context.current, contact.case, value);
    if (kept) contacts.push(kept);
    else violations.push({ field: `test_contacts[${index}].code`, description: "a new test contact needs a code", reason: "test_contact.code" });
  });
  return contacts;
}

function explanation(error: DomainError): string {
  const detail = error.metadata.detail;
  return detail === undefined ? error.text : `${error.text}: ${detail}`;
}
