// The user aggregate in SQLite: the event stream, the projection and the outbox change together or not at all.
import { and, eq, inArray, max, sql } from "drizzle-orm";
import type { EventBody, UserEvent } from "../domain/events.js";
import { AppendConflict, type UserChange, type UserStore } from "../domain/ports.js";
import { type UserState, apply } from "../domain/user-state.js";
import type { Db } from "./open-database.js";
import { events, outbox, users } from "./schema.js";
import { isUniqueViolation } from "./sqlite-errors.js";
import { SqliteLimitCounter } from "./sqlite-limit-counter.js";
import { type StorageGuard, unmonitoredStorage } from "./storage-health.js";

const placeholder = sql.placeholder;

export class SqliteUserStore implements UserStore {
  private readonly selectState;
  private readonly selectLastSequence;
  private readonly selectEvents;
  private readonly insertEvent;
  private readonly upsertUser;
  private readonly insertMessage;
  private readonly supersedeMessages;
  private readonly limits;
  /** Immediate, so the write lock is taken before the sequence check rather than after it. */
  private readonly appendInTransaction;

  constructor(
    db: Db,
    private readonly storage: StorageGuard = unmonitoredStorage,
  ) {
    this.selectState = db
      .select({ state: users.state })
      .from(users)
      .where(eq(users.id, placeholder("id")))
      .prepare();
    this.selectLastSequence = db
      .select({ sequence: max(events.sequence) })
      .from(events)
      .where(eq(events.aggregateId, placeholder("id")))
      .prepare();
    this.selectEvents = db
      .select()
      .from(events)
      .where(eq(events.aggregateId, placeholder("id")))
      .orderBy(events.sequence)
      .prepare();
    this.insertEvent = db
      .insert(events)
      .values({
        aggregateId: placeholder("aggregateId"),
        sequence: placeholder("sequence"),
        type: placeholder("type"),
        payload: placeholder("payload"),
        resourceOwner: placeholder("resourceOwner"),
        createdAt: placeholder("createdAt"),
      })
      .prepare();
    this.upsertUser = db
      .insert(users)
      .values({
        id: placeholder("id"),
        resourceOwner: placeholder("resourceOwner"),
        username: placeholder("username"),
        sequence: placeholder("sequence"),
        createdAt: placeholder("createdAt"),
        changedAt: placeholder("changedAt"),
        state: placeholder("state"),
        kind: placeholder("kind"),
        status: placeholder("status"),
        verifiedPhone: placeholder("verifiedPhone"),
        verifiedEmail: placeholder("verifiedEmail"),
      })
      .onConflictDoUpdate({
        target: users.id,
        set: {
          resourceOwner: sql`excluded.resource_owner`,
          username: sql`excluded.username`,
          sequence: sql`excluded.sequence`,
          changedAt: sql`excluded.changed_at`,
          state: sql`excluded.state`,
          kind: sql`excluded.kind`,
          status: sql`excluded.status`,
          verifiedPhone: sql`excluded.verified_phone`,
          verifiedEmail: sql`excluded.verified_email`,
        },
      })
      .prepare();
    this.insertMessage = db
      .insert(outbox)
      .values({
        id: placeholder("id"),
        userId: placeholder("userId"),
        channel: placeholder("channel"),
        purpose: placeholder("purpose"),
        keyId: placeholder("keyId"),
        sealed: placeholder("sealed"),
        createdAt: placeholder("createdAt"),
        expiresAt: placeholder("expiresAt"),
      })
      .prepare();
    // A notice to a replaced contact is no code: the change that sent it must not wipe it.
    this.supersedeMessages = db
      .update(outbox)
      .set({ status: "expired", sealed: null, claimedUntil: null })
      .where(
        and(
          eq(outbox.userId, placeholder("userId")),
          eq(outbox.channel, placeholder("channel")),
          // A dead message keeps its body for an operator's retry, of a code that is now worthless.
          inArray(outbox.status, ["pending", "dead"]),
          eq(outbox.purpose, "code"),
        ),
      )
      .prepare();
    this.limits = new SqliteLimitCounter(db);
    this.appendInTransaction = db.$client.transaction((change: UserChange) => this.write(change)).immediate;
  }

  async load(userId: string): Promise<UserState | undefined> {
    return this.storage.use(() => this.selectState.get({ id: userId })?.state);
  }

  async append(change: UserChange): Promise<void> {
    try {
      this.storage.write(() => this.appendInTransaction(change));
    } catch (error) {
      // Behind the check in write(), the primary key of events is the last guard of the sequence.
      if (isUniqueViolation(error, "events.aggregate_id")) {
        throw new AppendConflict("sequence", `user ${change.userId} was changed concurrently`);
      }
      if (isUniqueViolation(error, "users.verified_phone")) {
        throw new AppendConflict("phone-in-use", `user ${change.userId}'s phone is verified by another user`);
      }
      if (isUniqueViolation(error, "users.verified_email")) {
        throw new AppendConflict("email-in-use", `user ${change.userId}'s email is verified by another user`);
      }
      if (isUniqueViolation(error, "users.resource_owner, users.username")) {
        throw new AppendConflict("username", `username ${change.next.username} is taken`);
      }
      throw error;
    }
  }

  /** Deletes counted actions older than every limit's window; returns how many. */
  async purgeCountedActions(before: Date): Promise<number> {
    return this.storage.write(() => this.limits.purge(before));
  }

  async events(userId: string): Promise<UserEvent[]> {
    // A row has exactly an event's fields; its type and payload were written from a UserEvent.
    return this.storage.use(() => this.selectEvents.all({ id: userId }) as UserEvent[]);
  }

  /**
   * Appends an event that records something that happened to the user rather than a decision about it (a message
   * delivered), at the next sequence, whatever it is: nothing was decided on an older state, so there is no race to
   * lose; a command deciding meanwhile loses its own and decides again. Synchronous, to run inside the transaction
   * of what it records (the outbox's), so that neither is written without the other.
   */
  appendFact(userId: string, body: EventBody, at: Date): void {
    const state = this.selectState.get({ id: userId })?.state;
    if (!state) throw new Error(`no user ${userId} to record ${body.type} for`);
    const event = { ...body, aggregateId: userId, sequence: state.sequence + 1, resourceOwner: state.resourceOwner, createdAt: at } as UserEvent;
    const next = apply(state, event);
    this.insertEvent.run(event);
    this.upsertUser.run({ ...next, state: next, ...loginContacts(next) });
  }

  private write(change: UserChange): void {
    const current = this.selectLastSequence.get({ id: change.userId })?.sequence ?? 0;
    if (current !== change.expectedSequence) {
      throw new AppendConflict(
        "sequence",
        `user ${change.userId} is at sequence ${current}, the change expected ${change.expectedSequence}`,
      );
    }
    // One after the other, so that a change with two sends (a new user's phone and email) sees the first counted.
    for (const action of change.limited) {
      this.limits.check(action);
      this.limits.record(action);
    }
    for (const event of change.events) this.insertEvent.run(event);
    const { next } = change;
    this.upsertUser.run({ ...next, state: next, ...loginContacts(next) });
    for (const channel of change.supersededChannels) this.supersedeMessages.run({ userId: change.userId, channel });
    for (const message of change.outbox) {
      this.insertMessage.run({ ...message, sealed: Buffer.from(message.sealed) });
    }
  }
}

/** A pending change is not a login name until it is verified; the verified address it replaces stays one until then. */
function loginContacts(state: UserState): { verifiedPhone: string | null; verifiedEmail: string | null } {
  if (state.kind !== "human") return { verifiedPhone: null, verifiedEmail: null };
  return { verifiedPhone: state.phone.verified ?? null, verifiedEmail: state.email.verified ?? null };
}
