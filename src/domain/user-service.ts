// The use cases of the user aggregate: load the state, decide, append with the expected sequence, and on a lost
// race decide again on the fresh state. Everything it touches outside memory goes through the ports.
import {
  type CodeRequest,
  type IssuedCode,
  type Verification,
  changedEvent,
  checkAddressChanges,
  checkCodeCanBeIssued,
  checkRemovable,
  codeAddedEvent,
  decideVerification,
  removedEvent,
  verifiedEvent,
} from "./contact-decisions.js";
import { type Channel, DomainError, errors } from "./errors.js";
import type { EventBody, Profile, UserEvent } from "./events.js";
import type { IdGenerator } from "./ids.js";
import { type MessageSealer, composeMessage } from "./outgoing-message.js";
import { type PhonePolicy, normalizePhoneNumber } from "./phone-number.js";
import { normalizeEmailAddress } from "./email-address.js";
import { AppendConflict, type Clock, type OrganizationStore, type SealedMessage, type UserStore } from "./ports.js";
import { checkUrlTemplate } from "./url-template.js";
import { type FailurePolicy, type UserState, apply } from "./user-state.js";
import { type CodeHasher, type CodePolicy, type RandomIndex, generateCode } from "./verification-code.js";

export interface VerificationPolicy {
  codes: Record<Channel, CodePolicy>;
  failures: FailurePolicy;
  phone: PhonePolicy;
}

export interface UserServiceDeps {
  users: UserStore;
  organizations: OrganizationStore;
  clock: Clock;
  newId: IdGenerator;
  randomIndex: RandomIndex;
  hasher: CodeHasher;
  sealer: MessageSealer;
  policy: VerificationPolicy;
}

/** What ZITADEL returns as `details` after a change. */
export interface ChangeDetails {
  sequence: number;
  changeDate: Date;
  resourceOwner: string;
}

export interface NewContact {
  value: string;
  verification: Verification;
}

export interface AddHumanUserInput {
  userId?: string;
  username?: string;
  organizationId?: string;
  profile: Profile;
  email?: NewContact;
  phone?: NewContact;
}

export interface CodeResult {
  details: ChangeDetails;
  /** The plain code, only when the caller asked for it to be returned. */
  code?: string;
}

/** A decision about a loaded user: events to append, and a result or an error to report after they are written. */
interface Decision<T> {
  events: EventBody[];
  outbox?: Omit<SealedMessage, "createdAt">[];
  result?: (details: ChangeDetails) => T;
  error?: DomainError;
}

const maxRaceRetries = 5;

export class UserService {
  constructor(private readonly deps: UserServiceDeps) {}

  async addHumanUser(input: AddHumanUserInput): Promise<{ userId: string } & CodeResult & { emailCode?: string; phoneCode?: string }> {
    const organization = input.organizationId
      ? await this.deps.organizations.find(input.organizationId)
      : await this.deps.organizations.defaultOrganization();
    if (!organization) throw errors.organizationNotFound();
    const email = input.email && { ...input.email, value: normalizeEmailAddress(input.email.value) };
    const phone = input.phone && { ...input.phone, value: normalizePhoneNumber(input.phone.value, this.deps.policy.phone) };
    for (const contact of [email, phone]) {
      if (contact?.verification.kind === "send" && contact.verification.urlTemplate) {
        checkUrlTemplate(contact.verification.urlTemplate);
      }
    }
    const userId = input.userId ?? this.deps.newId();
    const username = input.username ?? email?.value ?? userId;
    try {
      return await this.change(userId, organization.id, (state, now) => {
        if (state) throw errors.userAlreadyExists();
        const events: EventBody[] = [
          {
            type: "user.human.added",
            payload: {
              username,
              profile: input.profile,
              ...(email ? { email: email.value } : {}),
              ...(phone ? { phone: phone.value } : {}),
            },
          },
        ];
        const outbox: Decision<unknown>["outbox"] = [];
        const codes: Partial<Record<Channel, string>> = {};
        const contacts: [Channel, NewContact | undefined][] = [
          ["email", email],
          ["phone", phone],
        ];
        for (const [channel, contact] of contacts) {
          if (!contact) continue;
          if (contact.verification.kind === "verified") {
            events.push(verifiedEvent(channel, contact.value));
            continue;
          }
          const issued = this.issueCode(userId, channel, contact.value, now);
          events.push(codeAddedEvent(channel, issued, contact.verification));
          if (contact.verification.kind === "return") codes[channel] = issued.plain;
          else outbox.push(this.sealMessage(userId, organization.id, channel, contact.value, issued, contact.verification));
        }
        return {
          events,
          outbox,
          result: (details) => ({
            userId,
            details,
            ...(codes.email === undefined ? {} : { emailCode: codes.email }),
            ...(codes.phone === undefined ? {} : { phoneCode: codes.phone }),
          }),
        };
      });
    } catch (error) {
      if (error instanceof AppendConflict && error.conflict === "username") throw errors.usernameTaken();
      throw error;
    }
  }

  async getUser(userId: string): Promise<UserState> {
    const state = await this.deps.users.load(userId);
    if (!state) throw errors.userNotFound();
    return state;
  }

  /** SetPhone and SetEmail. */
  async setContact(userId: string, channel: Channel, rawValue: string, verification: Verification): Promise<CodeResult> {
    const value = this.normalize(channel, rawValue);
    if (verification.kind === "send" && verification.urlTemplate) checkUrlTemplate(verification.urlTemplate);
    return this.changeExisting(userId, (state, now) => {
      checkAddressChanges(state[channel], channel, value);
      const events = [changedEvent(channel, value)];
      // Back to the verified address: the pending change is cancelled and there is nothing to verify.
      if (value === state[channel].verified) return { events, result: (details) => ({ details }) };
      if (verification.kind === "verified") {
        events.push(verifiedEvent(channel, value));
        return { events, result: (details) => ({ details }) };
      }
      return this.withNewCode(state, channel, value, verification, now, events);
    });
  }

  /** ResendPhoneCode, ResendEmailCode and SendEmailCode: a fresh code with fresh attempts for the pending address. */
  async issueNewCode(userId: string, channel: Channel, request: CodeRequest): Promise<CodeResult> {
    if (request.kind === "send" && request.urlTemplate) checkUrlTemplate(request.urlTemplate);
    return this.changeExisting(userId, (state, now) => {
      const address = checkCodeCanBeIssued(state[channel], channel);
      return this.withNewCode(state, channel, address, request, now, []);
    });
  }

  async verify(userId: string, channel: Channel, code: string): Promise<ChangeDetails> {
    return this.changeExisting(userId, (state, now) => {
      const { event, error } = decideVerification(
        state[channel],
        { userId, channel, code, now },
        { code: this.deps.policy.codes[channel], failures: this.deps.policy.failures },
        this.deps.hasher,
      );
      return error ? { events: [event], error } : { events: [event], result: (details) => details };
    });
  }

  /** RemovePhone. */
  async removeContact(userId: string, channel: Channel): Promise<ChangeDetails> {
    return this.changeExisting(userId, (state) => {
      checkRemovable(state[channel], channel);
      return { events: [removedEvent(channel)], result: (details) => details };
    });
  }

  private normalize(channel: Channel, value: string): string {
    return channel === "phone" ? normalizePhoneNumber(value, this.deps.policy.phone) : normalizeEmailAddress(value);
  }

  private withNewCode(
    state: UserState,
    channel: Channel,
    address: string,
    request: CodeRequest,
    now: Date,
    events: EventBody[],
  ): Decision<CodeResult> {
    const issued = this.issueCode(state.id, channel, address, now);
    events.push(codeAddedEvent(channel, issued, request));
    if (request.kind === "return") return { events, result: (details) => ({ details, code: issued.plain }) };
    const message = this.sealMessage(state.id, state.resourceOwner, channel, address, issued, request);
    return { events, outbox: [message], result: (details) => ({ details }) };
  }

  private issueCode(userId: string, channel: Channel, destination: string, now: Date): IssuedCode {
    const policy = this.deps.policy.codes[channel];
    const plain = generateCode(policy, this.deps.randomIndex);
    const { hash, keyId } = this.deps.hasher.hash(plain, { userId, channel, destination });
    return { plain, hash, keyId, expiresAt: new Date(now.getTime() + policy.ttlMs) };
  }

  private sealMessage(
    userId: string,
    orgId: string,
    channel: Channel,
    destination: string,
    code: IssuedCode,
    request: CodeRequest,
  ): Omit<SealedMessage, "createdAt"> {
    const urlTemplate = request.kind === "send" ? request.urlTemplate : undefined;
    const message = composeMessage({
      channel,
      destination,
      code: code.plain,
      userId,
      orgId,
      ...(urlTemplate === undefined ? {} : { urlTemplate }),
    });
    return { id: this.deps.newId(), userId, channel, ...this.deps.sealer.seal(message), expiresAt: code.expiresAt };
  }

  private changeExisting<T>(userId: string, decide: (state: UserState, now: Date) => Decision<T>): Promise<T> {
    return this.change(userId, "", (state, now) => {
      if (!state) throw errors.userNotFound();
      return decide(state, now);
    });
  }

  /**
   * Runs a decision against the latest state and appends its events with the sequence it was decided on. A lost race
   * (another request or process appended first) is decided again on the fresh state, so limits and single use hold
   * across processes without locks held between requests.
   */
  private async change<T>(
    userId: string,
    ownerOfNewUser: string,
    decide: (state: UserState | undefined, now: Date) => Decision<T>,
  ): Promise<T> {
    for (let attempt = 0; attempt < maxRaceRetries; attempt++) {
      const state = await this.deps.users.load(userId);
      const now = this.deps.clock.now();
      const decision = decide(state, now);
      const events = this.stamp(userId, state?.resourceOwner ?? ownerOfNewUser, state?.sequence ?? 0, decision.events, now);
      const next = events.reduce<UserState | undefined>(
        (current, event) => apply(current, event, this.deps.policy.failures),
        state,
      );
      if (!next) throw new Error("a change must produce the user state");
      try {
        await this.deps.users.append({
          userId,
          expectedSequence: state?.sequence ?? 0,
          events,
          next,
          outbox: (decision.outbox ?? []).map((message) => ({ ...message, createdAt: now })),
        });
      } catch (error) {
        if (error instanceof AppendConflict && error.conflict === "sequence") continue;
        throw error;
      }
      if (decision.error) throw decision.error;
      const details = { sequence: next.sequence, changeDate: next.changedAt, resourceOwner: next.resourceOwner };
      return (decision.result as (details: ChangeDetails) => T)(details);
    }
    throw errors.concurrentUpdate();
  }

  private stamp(userId: string, resourceOwner: string, after: number, bodies: EventBody[], now: Date): UserEvent[] {
    return bodies.map((body, index) => ({
      ...body,
      aggregateId: userId,
      sequence: after + index + 1,
      resourceOwner,
      createdAt: now,
    }) as UserEvent);
  }
}
