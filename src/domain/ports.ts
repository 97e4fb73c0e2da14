// The small interfaces through which the store, the crypto and delivery plug into the domain.
import type { Principal } from "./access/principal.js";
import type { Channel } from "./errors.js";
import type { LimitCharge, LimitedAction } from "./limits/counted-action.js";
import type { MessagePurpose } from "./outgoing-message.js";
import type { OrganizationPage, OrganizationQuery } from "./organizations/organization-query.js";
import type { SecurityEventInput } from "./security/security-event.js";
import type { EventBody, UserEvent } from "./events.js";
import type { UserState } from "./user-state.js";

export interface Clock {
  now(): Date;
}

export interface Organization {
  id: string;
  name: string;
  createdAt: Date;
}

/** A message waiting for delivery; its body (destination and text, including the code) is encrypted. */
export interface SealedMessage {
  id: string;
  userId: string;
  channel: Channel;
  keyId: string;
  /** AES-256-GCM: nonce, ciphertext and tag. */
  sealed: Uint8Array;
  createdAt: Date;
  /** After this the message is worthless (its code has expired; a notice, a day on) and is wiped undelivered. */
  expiresAt: Date;
}

/** A message a worker has claimed (leased) for delivery, with its attempts so far, this one included. */
export interface ClaimedMessage extends SealedMessage {
  attempts: number;
}

/** A message delivery gave up on, kept sealed until its code expires so that an operator can retry it. */
export interface DeadMessage {
  id: string;
  userId: string;
  channel: Channel;
  attempts: number;
  lastError?: string;
  createdAt: Date;
  lastFailureAt?: Date;
  expiresAt: Date;
}

/** A message to add to the outbox. Its purpose stays in clear beside the sealed body: a new code supersedes codes only. */
export interface NewOutboxMessage extends SealedMessage {
  purpose: MessagePurpose;
}

/** A change of one user: the events to append, the state they lead to, and messages to deliver. */
export interface UserChange {
  userId: string;
  /** The user's sequence the change was decided on: 0 for a new user. */
  expectedSequence: number;
  events: readonly UserEvent[];
  next: UserState;
  /** Channels whose undelivered codes are now worthless (their code or address was replaced); wiped unsent. */
  supersededChannels: readonly Channel[];
  outbox: readonly NewOutboxMessage[];
  /** Sends and verifications the limits count: checked (LimitReached) and recorded with the change. */
  limited: readonly LimitedAction[];
  /** The security log's entries for the refusal the change records (a wrong code): written with it, or not at all. */
  securityEvents?: readonly { event: SecurityEventInput; at: Date }[];
}

/** Thrown by append when the change lost a race; the caller reloads and decides again. */
export class AppendConflict extends Error {
  constructor(
    /** Another writer appended first; the username is taken; another user of the organization verified the address. */
    readonly conflict: "sequence" | "username" | "phone-in-use" | "email-in-use",
    message: string,
  ) {
    super(message);
    this.name = "AppendConflict";
  }
}

export interface UserStore {
  /** The projected state of a user, or undefined when no such user exists. */
  load(userId: string): Promise<UserState | undefined>;
  /**
   * Appends the events and updates the projection and the outbox in one transaction, or throws AppendConflict
   * when another writer appended to the user first (or, for a new user, when the username is taken), or when the
   * change verifies an address another user of the organization has verified. Throws LimitReached when a limited
   * action would break one of its rules. Either way nothing is written.
   */
  append(change: UserChange): Promise<void>;
  /**
   * Checks and records actions that change no user (the sends a refused registration costs) in one transaction, each
   * after those before it are counted, as append does. Throws LimitReached when one would break a rule, and then
   * records nothing.
   */
  countActions(actions: readonly LimitCharge[]): Promise<void>;
  /** All events of a user in sequence order. */
  events(userId: string): Promise<UserEvent[]>;
  /**
   * Erases a user in one transaction: its events, its row, its tokens, its roles and its messages in the outbox, so
   * that nothing of the person stays behind. Throws AppendConflict ("sequence") when the user is no longer at
   * `expectedSequence` (changed or erased meanwhile), and then erases nothing.
   */
  erase(userId: string, expectedSequence: number): Promise<void>;
}

export interface OrganizationStore {
  /** The organization created on first start; created now if missing. */
  defaultOrganization(): Promise<Organization>;
  find(id: string): Promise<Organization | undefined>;
  /** Adds an organization; AlreadyExists (ORGANIZATION_ALREADY_EXISTS) when its name or id is taken. */
  add(organization: Organization): Promise<void>;
  list(query: OrganizationQuery): Promise<OrganizationPage>;
}

/**
 * Messages waiting for delivery: pending (due, or backing off after a failure), then delivered, dead (given up, kept
 * for a retry) or expired (wiped unsent). The outcomes that end a pending message take the event recording it on the
 * user's stream, so that the two are written together or not at all.
 */
export interface OutboxStore {
  /**
   * Claims up to `limit` pending, unexpired messages sealed with one of `keyIds`, oldest first. A message sealed with
   * a key the worker lacks is left to an instance that has it: during a rotation rolled out one instance at a time,
   * the instances not yet restarted must not take the new key's messages. With `channel`, only that channel's.
   */
  claimDue(now: Date, limit: number, keyIds: readonly string[], channel?: Channel): Promise<ClaimedMessage[]>;
  /**
   * Marks a pending message delivered, wipes its body and appends `event` to its user's stream; false, and nothing
   * written, when it was no longer pending (another worker marked it, or a newer code superseded it meanwhile).
   */
  markDelivered(id: string, at: Date, event?: EventBody): Promise<boolean>;
  /**
   * Records a failed delivery attempt; the message stays due, and is tried again after the back-off, or after
   * `retryAfterMs` if the provider asked for longer. False when the message is no longer pending (settled by another
   * worker, or erased with its user meanwhile): nothing will try it again.
   */
  markFailed(id: string, at: Date, error: string, retryAfterMs?: number): Promise<boolean>;
  /** Gives up on a pending message: dead, its body kept until its code expires, `event` appended; false as above. */
  markDead(id: string, at: Date, error: string, event?: EventBody): Promise<boolean>;
  /** Wipes a message that can never be delivered. */
  discard(id: string): Promise<void>;
  /** Wipes the bodies of pending and dead messages that expired; returns how many. */
  expire(now: Date): Promise<number>;
  /** Deletes delivered and expired messages whose code expired before `before`; never pending ones. Returns how many. */
  purge(before: Date): Promise<number>;
  /** Dead messages whose code has not expired, oldest first, without their bodies. */
  listDead(now: Date): Promise<DeadMessage[]>;
  /** Makes dead messages (these, or all) due now with their attempts reset, unless their code expired; returns how many. */
  retryDead(ids: readonly string[] | "all", now: Date): Promise<number>;
  /** Pending and dead messages whose code has not expired, counted by the id of the key that sealed them. */
  waitingByKey(now: Date): Promise<ReadonlyMap<string, number>>;
}

export interface Authenticator {
  /** The caller a bearer token stands for; undefined for an unknown, expired or removed token, or a disabled user. */
  authenticate(token: string): Promise<Principal | undefined>;
}
