// The small interfaces through which the store, the crypto and delivery plug into the domain.
import type { Principal } from "./access/principal.js";
import type { Channel } from "./errors.js";
import type { LimitedAction } from "./limits/counted-action.js";
import type { OrganizationPage, OrganizationQuery } from "./organizations/organization-query.js";
import type { UserEvent } from "./events.js";
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
  /** After this the message is worthless (its code has expired) and is wiped undelivered. */
  expiresAt: Date;
}

/** A change of one user: the events to append, the state they lead to, and messages to deliver. */
export interface UserChange {
  userId: string;
  /** The user's sequence the change was decided on: 0 for a new user. */
  expectedSequence: number;
  events: readonly UserEvent[];
  next: UserState;
  /** Channels whose undelivered messages are now worthless (their code or address was replaced); wiped unsent. */
  supersededChannels: readonly Channel[];
  outbox: readonly SealedMessage[];
  /** Sends and verifications the limits count: checked (LimitReached) and recorded with the change. */
  limited: readonly LimitedAction[];
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
  /** All events of a user in sequence order. */
  events(userId: string): Promise<UserEvent[]>;
}

export interface OrganizationStore {
  /** The organization created on first start; created now if missing. */
  defaultOrganization(): Promise<Organization>;
  find(id: string): Promise<Organization | undefined>;
  /** Adds an organization; AlreadyExists (ORGANIZATION_ALREADY_EXISTS) when its name or id is taken. */
  add(organization: Organization): Promise<void>;
  list(query: OrganizationQuery): Promise<OrganizationPage>;
}

export interface OutboxStore {
  /** Claims up to `limit` undelivered, unexpired messages for delivery, oldest first. */
  claimDue(now: Date, limit: number): Promise<SealedMessage[]>;
  /** Marks a message delivered and wipes its body. */
  markDelivered(id: string, at: Date): Promise<void>;
  /** Records a failed delivery attempt; the message stays due, after a back-off. */
  markFailed(id: string, at: Date, error: string): Promise<void>;
  /** Wipes a message that can never be delivered. */
  discard(id: string): Promise<void>;
  /** Wipes the bodies of undelivered messages that expired; returns how many. */
  expire(now: Date): Promise<number>;
  /** Deletes delivered and expired messages whose code expired before `before`; never pending ones. Returns how many. */
  purge(before: Date): Promise<number>;
}

export interface Authenticator {
  /** The caller a bearer token stands for; undefined for an unknown, expired or removed token, or a disabled user. */
  authenticate(token: string): Promise<Principal | undefined>;
}
