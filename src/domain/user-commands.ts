// The use cases of the user aggregate: load the state, decide, append with the expected sequence, and on a lost
// race decide again on the fresh state. Everything it touches outside memory goes through the ports.
import {
  type CodeRequest,
  type FailurePolicy,
  type IssuedCode,
  type Verification,
  assertAddressDiffers,
  changedEvent,
  codeAddedEvent,
  decideVerification,
  lockedUntil,
  pendingAddressForNewCode,
  assertRemovable,
  removedEvent,
  spentEvent,
  verifiedEvent,
} from "./contact-decisions.js";
import { type NewPassword, type PasswordHasher, encodeNewPassword } from "./credentials/password.js";
import { normalizeEmailAddress } from "./email-address.js";
import { type Channel, DomainError, contactInUseReason, errors } from "./errors.js";
import { type EventBody, type Profile, type UserEvent, parseContactEventType, stampedEvent } from "./events.js";
import type { IdGenerator } from "./ids.js";
import { KeyedSerializer } from "./keyed-serializer.js";
import { type CountedAction, LimitReached, callerAndOrganizationRules, rulesFor } from "./limits/counted-action.js";
import type { Limits } from "./limits/limits.js";
import {
  type OrganizationSettingsStore,
  type VerificationSettings,
  defaultVerificationSettings,
  effectiveLimits,
  findTestContact,
  phoneCountryAllowed,
} from "./organizations/verification-settings.js";
import type { MessageTemplates } from "./messages/message-catalog.js";
import { type MessageSealer, type OutgoingMessage, composeChangeNotice, composeCodeMessage } from "./outgoing-message.js";
import { type PhonePolicy, normalizePhoneNumber, phoneCallingCode } from "./phone-number.js";
import type { SecurityEventInput } from "./security/security-event.js";
import { AppendConflict, type Clock, type NewOutboxMessage, type OrganizationStore, type UserStore } from "./ports.js";
import { checkUrlTemplate } from "./url-template.js";
import { contactOf, requireActiveHuman, requireHuman } from "./users/user-guards.js";
import { checkAccountText } from "./users/account-text.js";
import { type StatusChange, statusChangeEvent } from "./users/user-status.js";
import { type HumanUserState, type UserState, apply } from "./user-state.js";
import { type CodeHasher, type CodePolicy, type RandomIndex, generateCode, typedCode } from "./verification-code.js";

export interface VerificationPolicy {
  codes: Record<Channel, CodePolicy>;
  failures: FailurePolicy;
  phone: PhonePolicy;
  /** The instance's limits; an organization's settings may override each. */
  limits: Limits;
  /** Whether organizations' test contacts get their fixed code (and nothing delivered). */
  testContacts: boolean;
  /** The channels whose codes are sent; elsewhere a code can only be returned to the caller. */
  sendChannels: readonly Channel[];
  /** What the messages say, per language. */
  messages: MessageTemplates;
}

export interface UserCommandsDeps {
  users: UserStore;
  organizations: OrganizationStore;
  settings: Pick<OrganizationSettingsStore, "verificationSettings" | "settingsReadWith">;
  clock: Clock;
  newId: IdGenerator;
  randomIndex: RandomIndex;
  hasher: CodeHasher;
  passwords: PasswordHasher;
  sealer: MessageSealer;
  policy: VerificationPolicy;
}

/** What ZITADEL returns as `details` after a change. */
export interface ChangeDetails {
  sequence: number;
  changeDate: Date;
  resourceOwner: string;
}

/** Who asks for a change: the limits count sends per caller, and the security log records the refusals they get. */
export interface Actor {
  /** The user behind the caller's credentials. */
  callerId: string;
  /**
   * The security log's entries for a refusal that a change records (a wrong code's failed attempt), decided by the
   * API layer that knows the call; written in the change's own transaction, so that both are committed together.
   */
  securityOutcomesOf?: (refusal: DomainError) => readonly SecurityEventInput[];
}

export interface NewContact {
  value: string;
  verification: Verification;
}

export interface AddHumanUserInput {
  userId?: string;
  username?: string;
  /**
   * Without a username the email address becomes it, as in ZITADEL; false gives the user id instead, for callers
   * whose addresses are no login names until verified (Kii), so that an address nobody verified blocks no one.
   */
  addressAsUsername?: boolean;
  organizationId?: string;
  profile: Profile;
  email?: NewContact;
  phone?: NewContact;
  password?: NewPassword;
  /**
   * A contact of the new user that another user of the organization verified, which Kii's registration refuses
   * (PHONE_ALREADY_IN_USE, EMAIL_ALREADY_IN_USE) and ZITADEL's does not. The user is refused for it where its sends
   * would be counted: after every other check, its password hashed, and at the cost of those sends to the caller's and
   * the organization's hourly limits, so that a taken address answers as a free one up to there, and past those
   * limits too. The address's own limits are left alone: probing it must not use up its owner's codes.
   */
  contactVerifiedByAnother?: Channel;
}

export interface CreateMachineUserInput {
  userId?: string;
  /** Unique within the organization, as a person's. */
  username: string;
  name: string;
  description: string;
  organizationId?: string;
}

export interface CreatedUser {
  userId: string;
  details: ChangeDetails;
}

export interface SetPasswordOptions {
  /** The user's password now, when the caller gives one: it must verify, else PASSWORD_INVALID. */
  currentPassword?: string;
  /** Refuse without a correct current password: what a user changing their own password must give. */
  requireCurrentPassword?: boolean;
}

export interface CodeResult {
  details: ChangeDetails;
  /** The plain code, only when the caller asked for it to be returned. */
  code?: string;
}

export interface AddHumanUserResult extends CreatedUser {
  emailCode?: string;
  phoneCode?: string;
}

type Outgoing = Omit<NewOutboxMessage, "createdAt">;

/**
 * A decision about a loaded user: the events to append and the actions the limits count, then either a result or an
 * error to report. A refusal without events writes nothing, but for the sends it is `charged`: each counted against
 * its caller's and its organization's limits alone.
 */
type Decision<T> = { events: EventBody[]; outbox?: Outgoing[]; counted?: CountedAction[] } & (
  | { result: (details: ChangeDetails) => T }
  | { error: DomainError; securityEvents?: readonly SecurityEventInput[]; charged?: readonly CountedAction[] }
);

/** The part of a decision that issues a code: its event, the code or the message that carries it, and the send. */
interface CodeIssue {
  event: EventBody;
  returnedCode?: string;
  message?: Outgoing;
  send?: CountedAction;
}

/** What a decision may know besides the user: the time, and the settings of the user's organization. */
interface DecisionContext {
  now: Date;
  settings: VerificationSettings;
}

const maxRaceRetries = 5;

/** A notice that a provider could not take within a day has missed its point. */
const noticeLifetimeMs = 24 * 3_600_000;

export class UserCommands {
  private readonly userQueue = new KeyedSerializer();

  constructor(private readonly deps: UserCommandsDeps) {}

  async addHumanUser(input: AddHumanUserInput, actor: Actor): Promise<AddHumanUserResult> {
    const { givenName, familyName, nickName, displayName, preferredLanguage } = input.profile;
    checkAccountText({
      userId: input.userId,
      username: input.username,
      names: { "profile.given_name": givenName, "profile.family_name": familyName, "profile.nick_name": nickName, "profile.display_name": displayName },
      preferredLanguage,
    });
    const organizationId = await this.existingOrganization(input.organizationId);
    const contacts: [Channel, NewContact][] = [];
    if (input.email) contacts.push(["email", this.checkedContact("email", input.email)]);
    if (input.phone) contacts.push(["phone", this.checkedContact("phone", input.phone)]);
    const passwordHash = input.password && (await encodeNewPassword(input.password, this.deps.passwords));
    const email = contacts.find(([channel]) => channel === "email")?.[1].value;
    const phone = contacts.find(([channel]) => channel === "phone")?.[1].value;
    return this.addUser(input.userId, organizationId, (userId, context): Decision<AddHumanUserResult> => {
      if (phone) assertPhoneCountryAllowed(context.settings, phone);
      const events: EventBody[] = [
        {
          type: "user.human.added",
          payload: {
            username: input.username ?? (input.addressAsUsername === false ? userId : (email ?? userId)),
            profile: input.profile,
            ...(email ? { email } : {}),
            ...(phone ? { phone } : {}),
          },
        },
      ];
      if (passwordHash) events.push(passwordChangedEvent(passwordHash));
      const outbox: Outgoing[] = [];
      const counted: CountedAction[] = [];
      const codes: Partial<Record<Channel, string>> = {};
      for (const [channel, { value, verification }] of contacts) {
        if (verification.kind === "verified") {
          events.push(verifiedEvent(channel, value));
          continue;
        }
        const issue = this.issueCode(
          { userId, orgId: organizationId, language: input.profile.preferredLanguage, channel, destination: value, request: verification, actor },
          context,
        );
        events.push(issue.event);
        if (issue.message) outbox.push(issue.message);
        if (issue.send) counted.push(issue.send);
        if (issue.returnedCode) codes[channel] = issue.returnedCode;
      }
      // Only now, every other check passed: where a free address has its sends counted (contactVerifiedByAnother).
      const taken = input.contactVerifiedByAnother;
      if (taken) return { events: [], charged: counted, error: errors.contactInUse(taken) };
      return {
        events,
        outbox,
        counted,
        result: (details) => ({
          userId,
          details,
          ...(codes.email === undefined ? {} : { emailCode: codes.email }),
          ...(codes.phone === undefined ? {} : { phoneCode: codes.phone }),
        }),
      };
    });
  }

  /** CreateUser with a machine: a service account, which has no contacts and no password. */
  async createMachineUser(input: CreateMachineUserInput): Promise<CreatedUser> {
    checkAccountText({
      userId: input.userId,
      username: input.username,
      names: { "machine.name": input.name },
      descriptions: { "machine.description": input.description },
    });
    const organizationId = await this.existingOrganization(input.organizationId);
    const { username, name, description } = input;
    return this.addUser(input.userId, organizationId, (userId): Decision<CreatedUser> => ({
      events: [{ type: "user.machine.added", payload: { username, name, description } }],
      result: (details) => ({ userId, details }),
    }));
  }

  private async existingOrganization(organizationId: string | undefined): Promise<string> {
    const organization = organizationId
      ? await this.deps.organizations.find(organizationId)
      : await this.deps.organizations.defaultOrganization();
    if (!organization) throw errors.organizationNotFound();
    return organization.id;
  }

  /** Adds a user under the caller's id, or a generated one: taken by another process in the same millisecond, the next. */
  private async addUser<T>(
    requestedId: string | undefined,
    organizationId: string,
    decide: (userId: string, context: DecisionContext) => Decision<T>,
  ): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const userId = requestedId ?? this.deps.newId();
      try {
        return await this.change(userId, organizationId, (state, context) => {
          if (state) throw errors.userAlreadyExists();
          return decide(userId, context);
        });
      } catch (error) {
        if (error instanceof AppendConflict && error.conflict === "username") throw errors.usernameTaken();
        const taken = error instanceof DomainError && error.reason === "USER_ALREADY_EXISTS";
        if (taken && requestedId === undefined && attempt < maxRaceRetries) continue;
        throw error;
      }
    }
  }

  async getUser(userId: string): Promise<UserState> {
    const state = await this.deps.users.load(userId);
    if (!state) throw errors.userNotFound();
    return state;
  }

  /** SetPhone and SetEmail. */
  async setContact(userId: string, channel: Channel, contact: NewContact, actor: Actor): Promise<CodeResult> {
    const { value, verification } = this.checkedContact(channel, contact);
    return this.changeExisting(userId, (user, context): Decision<CodeResult> => {
      const state = requireActiveHuman(user, contactOf(channel));
      assertAddressDiffers(state[channel], channel, value);
      const events = [changedEvent(channel, value)];
      // Back to the verified address: the pending change is cancelled and there is nothing to verify.
      if (value === state[channel].verified) return { events, result: (details) => ({ details }) };
      if (channel === "phone") assertPhoneCountryAllowed(context.settings, value);
      const outbox = this.changeNotice(state, channel, context);
      if (verification.kind === "verified") {
        return { events: [...events, verifiedEvent(channel, value)], outbox, result: (details) => ({ details }) };
      }
      return this.withNewCode(state, { channel, address: value, request: verification, actor }, context, { events, outbox });
    });
  }

  /** ResendPhoneCode, ResendEmailCode and SendEmailCode: a fresh code with fresh attempts for the pending address. */
  async issueNewCode(userId: string, channel: Channel, request: CodeRequest, actor: Actor): Promise<CodeResult> {
    if (request.kind === "send" && request.urlTemplate) checkUrlTemplate(request.urlTemplate);
    return this.changeExisting(userId, (user, context) => {
      const state = requireActiveHuman(user, contactOf(channel));
      const address = pendingAddressForNewCode(state[channel], channel);
      // The organization may have stopped sending to the number's country since it was set.
      if (channel === "phone" && request.kind === "send") assertPhoneCountryAllowed(context.settings, address);
      return this.withNewCode(state, { channel, address, request, actor }, context, { events: [], outbox: [] });
    });
  }

  /**
   * VerifyPhone and VerifyEmail. A right code for an address that another user of the organization verified first
   * (the store's unique index tells, across processes) is spent without verifying anything.
   */
  /** `loaded`: the user as the caller just loaded it (to authorize the call), decided on instead of loading it again. */
  async verify(userId: string, channel: Channel, code: string, actor: Actor, loaded?: UserState): Promise<ChangeDetails> {
    const submitted = typedCode(code);
    if (submitted === "") throw errors.codeBlank();
    const attempt = (takenByAnother: boolean) =>
      this.changeExisting(userId, (state, { now }): Decision<ChangeDetails> => {
        const human = requireActiveHuman(state, contactOf(channel));
        const { event, error } = decideVerification(
          human[channel],
          { userId, channel, code: submitted, now },
          { code: this.deps.policy.codes[channel], failures: this.deps.policy.failures },
          this.deps.hasher,
        );
        // Refused before the code was judged: nothing changes, so nothing is written or counted.
        if (!event) return { events: [], error: error as DomainError };
        const counted: CountedAction[] = [
          { action: "verify", userId, channel, organizationId: human.resourceOwner, callerId: actor.callerId },
        ];
        if (error) return { events: [event], counted, error, securityEvents: actor.securityOutcomesOf?.(error) ?? [] };
        if (takenByAnother) return { events: [spentEvent(channel)], counted, error: errors.contactInUse(channel) };
        return { events: [event], counted, result: (details) => details };
      }, takenByAnother ? undefined : loaded);
    try {
      return await attempt(false);
    } catch (error) {
      if (!(error instanceof DomainError && error.reason === contactInUseReason(channel))) throw error;
      return attempt(true);
    }
  }

  /** RemovePhone. Allowed while the user is disabled: removing an address never proves anything. */
  async removeContact(userId: string, channel: Channel): Promise<ChangeDetails> {
    return this.changeExisting(userId, (state, context): Decision<ChangeDetails> => {
      const human = requireHuman(state, contactOf(channel));
      assertRemovable(human[channel], channel);
      return { events: [removedEvent(channel)], outbox: this.changeNotice(human, channel, context), result: (details) => details };
    });
  }

  /**
   * DeleteUser: erases the user and all that is theirs (ports.ts, `erase`). The details are those of a removal at the
   * user's next sequence, as ZITADEL answers; its id may be given to a new user afterwards, as in ZITADEL.
   */
  async deleteUser(userId: string): Promise<ChangeDetails> {
    return this.userQueue.run(userId, async () => {
      for (let attempt = 0; attempt < maxRaceRetries; attempt++) {
        const state = await this.getUser(userId);
        try {
          await this.deps.users.erase(userId, state.sequence);
        } catch (error) {
          if (error instanceof AppendConflict && error.conflict === "sequence") continue;
          throw error;
        }
        return { sequence: state.sequence + 1, changeDate: this.deps.clock.now(), resourceOwner: state.resourceOwner };
      }
      throw errors.concurrentUpdate();
    });
  }

  /** DeactivateUser, ReactivateUser, LockUser and UnlockUser. */
  changeStatus(userId: string, change: StatusChange): Promise<ChangeDetails> {
    return this.changeExisting(userId, (state): Decision<ChangeDetails> => ({
      events: [statusChangeEvent(state.status, change)],
      result: (details) => details,
    }));
  }

  /**
   * SetPassword. Both hashes are computed before the change is decided, outside any storage transaction; a
   * password changed meanwhile by someone else voids the current password the caller proved.
   */
  async setPassword(userId: string, newPassword: NewPassword, options: SetPasswordOptions = {}): Promise<ChangeDetails> {
    const encodedHash = await encodeNewPassword(newPassword, this.deps.passwords);
    const { currentPassword, requireCurrentPassword = false } = options;
    const provenHash =
      currentPassword !== undefined || requireCurrentPassword ? await this.provenPasswordHash(userId, currentPassword) : undefined;
    return this.changeExisting(userId, (state): Decision<ChangeDetails> => {
      const human = requireHuman(state);
      if (provenHash !== undefined && human.passwordHash !== provenHash) throw errors.concurrentUpdate();
      return { events: [passwordChangedEvent(encodedHash)], result: (details) => details };
    });
  }

  /** The user's password hash, once `password` verified against it. */
  private async provenPasswordHash(userId: string, password: string | undefined): Promise<string> {
    const { passwordHash } = requireHuman(await this.getUser(userId));
    const proven =
      password !== undefined && passwordHash !== undefined && (await this.deps.passwords.verify(passwordHash, password));
    if (!proven) throw errors.passwordInvalid();
    return passwordHash;
  }

  /** Normalizes the address and checks the link template before anything is loaded or written. */
  private checkedContact(channel: Channel, contact: NewContact): NewContact {
    const { verification } = contact;
    if (verification.kind === "send" && verification.urlTemplate) checkUrlTemplate(verification.urlTemplate);
    const value =
      channel === "phone"
        ? normalizePhoneNumber(contact.value, this.deps.policy.phone)
        : normalizeEmailAddress(contact.value);
    return { value, verification };
  }

  private withNewCode(
    state: HumanUserState,
    code: { channel: Channel; address: string; request: CodeRequest; actor: Actor },
    context: DecisionContext,
    before: { events: EventBody[]; outbox: Outgoing[] },
  ): Decision<CodeResult> {
    const { channel, address, request, actor } = code;
    const issue = this.issueCode(
      { userId: state.id, orgId: state.resourceOwner, language: state.profile.preferredLanguage, channel, destination: address, request, actor },
      context,
    );
    return {
      events: [...before.events, issue.event],
      outbox: issue.message ? [...before.outbox, issue.message] : before.outbox,
      ...(issue.send ? { counted: [issue.send] } : {}),
      result: (details) => ({ details, ...(issue.returnedCode ? { code: issue.returnedCode } : {}) }),
    };
  }

  /**
   * A new code for an address. A code to be sent counts against the send limits, a test contact's too (it gets its
   * fixed code and nothing is delivered); a code returned to the caller sends nothing and counts nothing.
   */
  private issueCode(
    target: {
      userId: string;
      orgId: string;
      language: string | undefined;
      channel: Channel;
      destination: string;
      request: CodeRequest;
      actor: Actor;
    },
    { now, settings }: DecisionContext,
  ): CodeIssue {
    const { userId, orgId, language, channel, destination, request } = target;
    if (request.kind === "send" && !this.deps.policy.sendChannels.includes(channel)) throw errors.codeDeliveryDisabled(channel);
    const policy = this.deps.policy.codes[channel];
    const testContact = this.deps.policy.testContacts ? findTestContact(settings, channel, destination) : undefined;
    const plain = testContact
      ? this.deps.sealer.open(testContact.sealedCode.keyId, testContact.sealedCode.sealed).text
      : generateCode(policy, this.deps.randomIndex);
    const { hash, keyId } = this.deps.hasher.hash(plain, { userId, channel, destination });
    const code: IssuedCode = { plain, hash, keyId, expiresAt: new Date(now.getTime() + policy.ttlMs) };
    const event = codeAddedEvent(channel, code, request);
    if (request.kind === "return") return { event, returnedCode: plain };
    const send: CountedAction = { action: "send", userId, channel, destination, organizationId: orgId, callerId: target.actor.callerId };
    if (testContact) return { event, send };
    const text = composeCodeMessage(this.deps.policy.messages, {
      channel,
      destination,
      code: plain,
      lifetimeMs: policy.ttlMs,
      ...(language === undefined ? {} : { language }),
      userId,
      orgId,
      ...(request.urlTemplate === undefined ? {} : { urlTemplate: request.urlTemplate }),
    });
    return { event, message: this.sealed(userId, text, code.expiresAt), send };
  }

  /**
   * The notice to the verified address that a change replaces or removes (OWASP ASVS V2.5), whoever makes the change
   * and however the new address is confirmed. It costs no send: it goes once per change to an address already proven.
   * A test contact gets none, as it gets no code, and neither does a channel verifyd sends nothing on.
   */
  private changeNotice(state: HumanUserState, channel: Channel, { now, settings }: DecisionContext): Outgoing[] {
    const destination = state[channel].verified;
    if (destination === undefined || !this.deps.policy.sendChannels.includes(channel)) return [];
    if (this.deps.policy.testContacts && findTestContact(settings, channel, destination)) return [];
    const { preferredLanguage } = state.profile;
    const notice = composeChangeNotice(this.deps.policy.messages, {
      channel,
      destination,
      ...(preferredLanguage === undefined ? {} : { language: preferredLanguage }),
    });
    return [this.sealed(state.id, notice, new Date(now.getTime() + noticeLifetimeMs))];
  }

  private sealed(userId: string, message: OutgoingMessage, expiresAt: Date): Outgoing {
    const { channel, purpose } = message;
    return { id: this.deps.newId(), userId, channel, purpose, ...this.deps.sealer.seal(message), expiresAt };
  }

  private changeExisting<T>(
    userId: string,
    decide: (state: UserState, context: DecisionContext) => Decision<T>,
    loaded?: UserState,
  ): Promise<T> {
    const decideOnExisting = (state: UserState | undefined, context: DecisionContext) => {
      if (!state) throw errors.userNotFound();
      return decide(state, context);
    };
    return this.change(userId, "", decideOnExisting, loaded);
  }

  /**
   * Changes of one user queue behind each other within this process, so honest concurrent calls never lose a race
   * among themselves; only another process sharing the database can still win one.
   */
  private async change<T>(
    userId: string,
    ownerOfNewUser: string,
    decide: (state: UserState | undefined, context: DecisionContext) => Decision<T>,
    loaded?: UserState,
  ): Promise<T> {
    try {
      return await this.userQueue.run(userId, () => this.decideAndAppend(userId, ownerOfNewUser, decide, loaded));
    } catch (error) {
      if (error instanceof AppendConflict && error.conflict === "phone-in-use") throw errors.contactInUse("phone");
      if (error instanceof AppendConflict && error.conflict === "email-in-use") throw errors.contactInUse("email");
      if (error instanceof LimitReached) {
        const { rule, retryAfterMs } = error;
        throw rule.action === "send"
          ? errors.sendLimitReached(rule.name, retryAfterMs)
          : errors.verifyLimitReached(rule.name, retryAfterMs);
      }
      throw error;
    }
  }

  /**
   * Runs a decision against the latest state and appends its events with the sequence it was decided on. A lost race
   * (another process appended first) is decided again on the fresh state, so limits and single use hold across
   * processes without locks held between requests.
   */
  private async decideAndAppend<T>(
    userId: string,
    ownerOfNewUser: string,
    decide: (state: UserState | undefined, context: DecisionContext) => Decision<T>,
    loaded?: UserState,
  ): Promise<T> {
    for (let attempt = 0; attempt < maxRaceRetries; attempt++) {
      // A state loaded earlier in the call is used once: if it is stale, the append conflicts and the next attempt loads.
      const state = attempt === 0 && loaded ? loaded : await this.deps.users.load(userId);
      const settings = state
        ? await this.deps.settings.settingsReadWith(state)
        : ownerOfNewUser
          ? await this.deps.settings.verificationSettings(ownerOfNewUser)
          : defaultVerificationSettings;
      const now = this.deps.clock.now();
      const decision = decide(state, { now, settings });
      if (decision.events.length === 0 && "error" in decision) {
        if (decision.charged) await this.charge(decision.charged, settings, now);
        throw decision.error;
      }
      const limits = effectiveLimits(this.deps.policy.limits, settings);
      const events = stamp(userId, state?.resourceOwner ?? ownerOfNewUser, state?.sequence ?? 0, decision.events, now);
      const next = events.reduce<UserState | undefined>((current, event) => apply(current, event), state);
      const securityEvents = "error" in decision ? (decision.securityEvents ?? []) : [];
      if (!next) throw new Error("a change must produce the user state");
      try {
        await this.deps.users.append({
          userId,
          expectedSequence: state?.sequence ?? 0,
          events,
          next,
          supersededChannels: supersededChannels(events, next, this.deps.policy),
          outbox: (decision.outbox ?? []).map((message) => Object.assign({}, message, { createdAt: now })),
          limited: (decision.counted ?? []).map((counted) => ({ counted, rules: rulesFor(counted, limits), at: now })),
          securityEvents: securityEvents.map((event) => ({ event, at: now })),
        });
      } catch (error) {
        if (error instanceof AppendConflict && error.conflict === "sequence") continue;
        throw error;
      }
      if ("error" in decision) {
        if (securityEvents.length > 0) decision.error.loggedSecurityEvents = securityEvents;
        throw decision.error;
      }
      return decision.result({ sequence: next.sequence, changeDate: next.changedAt, resourceOwner: next.resourceOwner });
    }
    throw errors.concurrentUpdate();
  }

  /** Counts sends that change no user against their caller's and organization's limits; LimitReached past one. */
  private charge(sends: readonly CountedAction[], settings: VerificationSettings, now: Date): Promise<void> {
    const limits = effectiveLimits(this.deps.policy.limits, settings);
    return this.deps.users.countActions(sends.map((send) => ({ rules: callerAndOrganizationRules(send, limits), at: now })));
  }
}

function assertPhoneCountryAllowed(settings: VerificationSettings, phone: string): void {
  // Most organizations allow every country, and then the number need not be parsed again for its calling code (4 µs
  // and 5 KB of garbage per send).
  if (settings.phoneCountries.mode === "all") return;
  const callingCode = phoneCallingCode(phone);
  if (!phoneCountryAllowed(settings.phoneCountries, callingCode)) throw errors.phoneCountryNotAllowed(callingCode);
}

function passwordChangedEvent(encodedHash: string): EventBody {
  return { type: "user.human.password.changed", payload: { encodedHash } };
}

function stamp(userId: string, resourceOwner: string, after: number, bodies: EventBody[], now: Date): UserEvent[] {
  return bodies.map((body, index) => stampedEvent(body, userId, after + index + 1, resourceOwner, now));
}

/** A new code, a new address, a verification or a removal makes any code still waiting for delivery worthless (notices stay). */
const supersedingActions = new Set(["changed", "code.added", "verified", "removed"]);

/**
 * The channels whose codes waiting for delivery (or dead, for a retry) these events make worthless: also a wrong
 * code that spent the code's last attempt, or locked the contact until past the code's expiry. Sent or retried, such
 * a message would hand the person a code that can only be refused.
 */
function supersededChannels(
  events: readonly UserEvent[],
  next: UserState,
  policy: Pick<UserCommandsDeps["policy"], "codes" | "failures">,
): Channel[] {
  const channels = new Set<Channel>();
  for (const event of events) {
    const contactEvent = parseContactEventType(event.type);
    if (!contactEvent) continue;
    const { channel, action } = contactEvent;
    if (supersedingActions.has(action) || (action === "verification.failed" && codeSpent(next, channel, policy))) channels.add(channel);
  }
  return [...channels];
}

function codeSpent(state: UserState, channel: Channel, policy: Pick<UserCommandsDeps["policy"], "codes" | "failures">): boolean {
  if (state.kind !== "human") return false;
  const contact = state[channel];
  const code = contact.code;
  if (!code) return false;
  const lockoutEnd = lockedUntil(contact, policy.failures);
  return code.failedAttempts >= policy.codes[channel].maxAttempts || (lockoutEnd !== undefined && lockoutEnd >= code.expiresAt);
}
