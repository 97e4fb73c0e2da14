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
  pendingAddressForNewCode,
  assertRemovable,
  removedEvent,
  verifiedEvent,
} from "./contact-decisions.js";
import { type NewPassword, type PasswordHasher, encodeNewPassword } from "./credentials/password.js";
import { normalizeEmailAddress } from "./email-address.js";
import { type Channel, DomainError, errors } from "./errors.js";
import { type EventBody, type Profile, type UserEvent, parseContactEventType } from "./events.js";
import type { IdGenerator } from "./ids.js";
import { KeyedSerializer } from "./keyed-serializer.js";
import { type MessageSealer, composeMessage } from "./outgoing-message.js";
import { type PhonePolicy, normalizePhoneNumber } from "./phone-number.js";
import { AppendConflict, type Clock, type OrganizationStore, type SealedMessage, type UserStore } from "./ports.js";
import { checkUrlTemplate } from "./url-template.js";
import { requireActiveHuman, requireHuman } from "./users/user-guards.js";
import { type StatusChange, statusChangeEvent } from "./users/user-status.js";
import { type HumanUserState, type UserState, apply } from "./user-state.js";
import { type CodeHasher, type CodePolicy, type RandomIndex, generateCode } from "./verification-code.js";

export interface VerificationPolicy {
  codes: Record<Channel, CodePolicy>;
  failures: FailurePolicy;
  phone: PhonePolicy;
}

export interface UserCommandsDeps {
  users: UserStore;
  organizations: OrganizationStore;
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
  password?: NewPassword;
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

type Outgoing = Omit<SealedMessage, "createdAt">;

/** A decision about a loaded user: the events to append, then either a result or an error to report. */
type Decision<T> = { events: EventBody[]; outbox?: Outgoing[] } & (
  | { result: (details: ChangeDetails) => T }
  | { error: DomainError }
);

/** The part of a decision that issues a code: its event, and the code or the message that carries it. */
interface CodeIssue {
  event: EventBody;
  returnedCode?: string;
  message?: Outgoing;
}

const maxRaceRetries = 5;

export class UserCommands {
  private readonly userQueue = new KeyedSerializer();

  constructor(private readonly deps: UserCommandsDeps) {}

  async addHumanUser(input: AddHumanUserInput): Promise<AddHumanUserResult> {
    const organizationId = await this.existingOrganization(input.organizationId);
    const contacts: [Channel, NewContact][] = [];
    if (input.email) contacts.push(["email", this.checkedContact("email", input.email)]);
    if (input.phone) contacts.push(["phone", this.checkedContact("phone", input.phone)]);
    const passwordHash = input.password && (await encodeNewPassword(input.password, this.deps.passwords));
    const email = contacts.find(([channel]) => channel === "email")?.[1].value;
    const phone = contacts.find(([channel]) => channel === "phone")?.[1].value;
    return this.addUser(input.userId, organizationId, (userId, now): Decision<AddHumanUserResult> => {
      const events: EventBody[] = [
        {
          type: "user.human.added",
          payload: {
            username: input.username ?? email ?? userId,
            profile: input.profile,
            ...(email ? { email } : {}),
            ...(phone ? { phone } : {}),
          },
        },
      ];
      if (passwordHash) events.push(passwordChangedEvent(passwordHash));
      const outbox: Outgoing[] = [];
      const codes: Partial<Record<Channel, string>> = {};
      for (const [channel, { value, verification }] of contacts) {
        if (verification.kind === "verified") {
          events.push(verifiedEvent(channel, value));
          continue;
        }
        const issue = this.issueCode(userId, organizationId, channel, value, verification, now);
        events.push(issue.event);
        if (issue.message) outbox.push(issue.message);
        if (issue.returnedCode) codes[channel] = issue.returnedCode;
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
  }

  /** CreateUser with a machine: a service account, which has no contacts and no password. */
  async createMachineUser(input: CreateMachineUserInput): Promise<CreatedUser> {
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
    decide: (userId: string, now: Date) => Decision<T>,
  ): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const userId = requestedId ?? this.deps.newId();
      try {
        return await this.change(userId, organizationId, (state, now) => {
          if (state) throw errors.userAlreadyExists();
          return decide(userId, now);
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
  async setContact(userId: string, channel: Channel, contact: NewContact): Promise<CodeResult> {
    const { value, verification } = this.checkedContact(channel, contact);
    return this.changeExisting(userId, (user, now): Decision<CodeResult> => {
      const state = requireActiveHuman(user);
      assertAddressDiffers(state[channel], channel, value);
      const events = [changedEvent(channel, value)];
      // Back to the verified address: the pending change is cancelled and there is nothing to verify.
      if (value === state[channel].verified) return { events, result: (details) => ({ details }) };
      if (verification.kind === "verified") {
        return { events: [...events, verifiedEvent(channel, value)], result: (details) => ({ details }) };
      }
      return this.withNewCode(state, channel, value, verification, now, events);
    });
  }

  /** ResendPhoneCode, ResendEmailCode and SendEmailCode: a fresh code with fresh attempts for the pending address. */
  async issueNewCode(userId: string, channel: Channel, request: CodeRequest): Promise<CodeResult> {
    if (request.kind === "send" && request.urlTemplate) checkUrlTemplate(request.urlTemplate);
    return this.changeExisting(userId, (user, now) => {
      const state = requireActiveHuman(user);
      const address = pendingAddressForNewCode(state[channel], channel);
      return this.withNewCode(state, channel, address, request, now, []);
    });
  }

  async verify(userId: string, channel: Channel, code: string): Promise<ChangeDetails> {
    return this.changeExisting(userId, (state, now): Decision<ChangeDetails> => {
      const { event, error } = decideVerification(
        requireActiveHuman(state)[channel],
        { userId, channel, code, now },
        { code: this.deps.policy.codes[channel], failures: this.deps.policy.failures },
        this.deps.hasher,
      );
      return error ? { events: [event], error } : { events: [event], result: (details) => details };
    });
  }

  /** RemovePhone. Allowed while the user is disabled: removing an address never proves anything. */
  async removeContact(userId: string, channel: Channel): Promise<ChangeDetails> {
    return this.changeExisting(userId, (state): Decision<ChangeDetails> => {
      assertRemovable(requireHuman(state)[channel], channel);
      return { events: [removedEvent(channel)], result: (details) => details };
    });
  }

  deactivate(userId: string): Promise<ChangeDetails> {
    return this.changeStatus(userId, "deactivate");
  }

  reactivate(userId: string): Promise<ChangeDetails> {
    return this.changeStatus(userId, "reactivate");
  }

  lock(userId: string): Promise<ChangeDetails> {
    return this.changeStatus(userId, "lock");
  }

  unlock(userId: string): Promise<ChangeDetails> {
    return this.changeStatus(userId, "unlock");
  }

  private changeStatus(userId: string, change: StatusChange): Promise<ChangeDetails> {
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
    channel: Channel,
    address: string,
    request: CodeRequest,
    now: Date,
    events: EventBody[],
  ): Decision<CodeResult> {
    const issue = this.issueCode(state.id, state.resourceOwner, channel, address, request, now);
    return {
      events: [...events, issue.event],
      ...(issue.message ? { outbox: [issue.message] } : {}),
      result: (details) => ({ details, ...(issue.returnedCode ? { code: issue.returnedCode } : {}) }),
    };
  }

  private issueCode(
    userId: string,
    orgId: string,
    channel: Channel,
    destination: string,
    request: CodeRequest,
    now: Date,
  ): CodeIssue {
    const policy = this.deps.policy.codes[channel];
    const plain = generateCode(policy, this.deps.randomIndex);
    const { hash, keyId } = this.deps.hasher.hash(plain, { userId, channel, destination });
    const code: IssuedCode = { plain, hash, keyId, expiresAt: new Date(now.getTime() + policy.ttlMs) };
    const event = codeAddedEvent(channel, code, request);
    if (request.kind === "return") return { event, returnedCode: plain };
    const text = composeMessage({
      channel,
      destination,
      code: plain,
      userId,
      orgId,
      ...(request.urlTemplate === undefined ? {} : { urlTemplate: request.urlTemplate }),
    });
    const message = { id: this.deps.newId(), userId, channel, ...this.deps.sealer.seal(text), expiresAt: code.expiresAt };
    return { event, message };
  }

  private changeExisting<T>(userId: string, decide: (state: UserState, now: Date) => Decision<T>): Promise<T> {
    return this.change(userId, "", (state, now) => {
      if (!state) throw errors.userNotFound();
      return decide(state, now);
    });
  }

  /**
   * Changes of one user queue behind each other within this process, so honest concurrent calls never lose a race
   * among themselves; only another process sharing the database can still win one.
   */
  private change<T>(
    userId: string,
    ownerOfNewUser: string,
    decide: (state: UserState | undefined, now: Date) => Decision<T>,
  ): Promise<T> {
    return this.userQueue.run(userId, () => this.decideAndAppend(userId, ownerOfNewUser, decide));
  }

  /**
   * Runs a decision against the latest state and appends its events with the sequence it was decided on. A lost race
   * (another process appended first) is decided again on the fresh state, so limits and single use hold across
   * processes without locks held between requests.
   */
  private async decideAndAppend<T>(
    userId: string,
    ownerOfNewUser: string,
    decide: (state: UserState | undefined, now: Date) => Decision<T>,
  ): Promise<T> {
    for (let attempt = 0; attempt < maxRaceRetries; attempt++) {
      const state = await this.deps.users.load(userId);
      const now = this.deps.clock.now();
      const decision = decide(state, now);
      const events = stamp(userId, state?.resourceOwner ?? ownerOfNewUser, state?.sequence ?? 0, decision.events, now);
      const next = events.reduce<UserState | undefined>((current, event) => apply(current, event), state);
      if (!next) throw new Error("a change must produce the user state");
      try {
        await this.deps.users.append({
          userId,
          expectedSequence: state?.sequence ?? 0,
          events,
          next,
          supersededChannels: supersededChannels(events),
          outbox: (decision.outbox ?? []).map((message) => ({ ...message, createdAt: now })),
        });
      } catch (error) {
        if (error instanceof AppendConflict && error.conflict === "sequence") continue;
        throw error;
      }
      if ("error" in decision) throw decision.error;
      return decision.result({ sequence: next.sequence, changeDate: next.changedAt, resourceOwner: next.resourceOwner });
    }
    throw errors.concurrentUpdate();
  }
}

function passwordChangedEvent(encodedHash: string): EventBody {
  return { type: "user.human.password.changed", payload: { encodedHash } };
}

function stamp(userId: string, resourceOwner: string, after: number, bodies: EventBody[], now: Date): UserEvent[] {
  return bodies.map(
    (body, index) => ({ ...body, aggregateId: userId, sequence: after + index + 1, resourceOwner, createdAt: now }) as UserEvent,
  );
}

/** A new code, a new address, a verification or a removal makes any code still waiting for delivery worthless. */
const supersedingActions = new Set(["changed", "code.added", "verified", "removed"]);

function supersededChannels(events: readonly UserEvent[]): Channel[] {
  const channels = new Set<Channel>();
  for (const event of events) {
    const contactEvent = parseContactEventType(event.type);
    if (contactEvent && supersedingActions.has(contactEvent.action)) channels.add(contactEvent.channel);
  }
  return [...channels];
}
