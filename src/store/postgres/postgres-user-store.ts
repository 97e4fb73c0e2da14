// The user aggregate in PostgreSQL, shared by several processes: the event stream, the projection and the outbox change
// in one transaction. The user's row, locked FOR UPDATE, serializes the writers of one user across processes; for a new
// user, which has no row to lock, the primary keys of events and users stop the second of two creators.
import { and, eq, inArray } from "drizzle-orm";
import type { EventBody, UserEvent } from "../../domain/events.js";
import { AppendConflict, type NewOutboxMessage, type UserChange, type UserStore } from "../../domain/ports.js";
import { type UserState, apply } from "../../domain/user-state.js";
import { type StorageGuard, unmonitoredStorage } from "../storage-health.js";
import type { PgDb } from "./open-postgres.js";
import { isUniqueViolation } from "./postgres-errors.js";
import { PostgresLimitCounter, type PgQueries } from "./postgres-limit-counter.js";
import { events, outbox, users } from "./schema.js";

// Which constraint a racing writer broke, and what the caller is told.
const conflicts: [constraint: string, conflict: AppendConflict["conflict"], message: (change: UserChange) => string][] = [
  ["events_pkey", "sequence", (change) => `user ${change.userId} was changed concurrently`],
  ["users_pkey", "sequence", (change) => `user ${change.userId} was changed concurrently`],
  ["users_username_unique", "username", (change) => `username ${change.next.username} is taken`],
  ["users_verified_phone_unique", "phone-in-use", (change) => `user ${change.userId}'s phone is verified by another user`],
  ["users_verified_email_unique", "email-in-use", (change) => `user ${change.userId}'s email is verified by another user`],
];

export class PostgresUserStore implements UserStore {
  private readonly limits = new PostgresLimitCounter();

  constructor(
    private readonly db: PgDb,
    private readonly storage: StorageGuard = unmonitoredStorage,
  ) {}

  async load(userId: string): Promise<UserState | undefined> {
    return this.storage.use(async () => {
      const [row] = await this.db.select({ state: users.state }).from(users).where(eq(users.id, userId));
      return row?.state;
    });
  }

  async append(change: UserChange): Promise<void> {
    return this.storage.write(async () => {
      try {
        await this.db.transaction((tx) => this.write(tx, change));
      } catch (error) {
        const known = conflicts.find(([constraint]) => isUniqueViolation(error, constraint));
        if (known) throw new AppendConflict(known[1], known[2](change));
        throw error;
      }
    });
  }

  /** Deletes counted actions older than every limit's window; returns how many. */
  async purgeCountedActions(before: Date): Promise<number> {
    return this.storage.write(() => this.limits.purge(this.db, before));
  }

  async events(userId: string): Promise<UserEvent[]> {
    // A row has exactly an event's fields; its type and payload were written from a UserEvent.
    return this.storage.use(
      async () => (await this.db.select().from(events).where(eq(events.aggregateId, userId)).orderBy(events.sequence)) as UserEvent[],
    );
  }

  /**
   * Appends an event that records something that happened to the user rather than a decision about it (a message
   * delivered), at the next sequence, whatever it is: nothing was decided on an older state, so there is no race to
   * lose; a command deciding meanwhile loses its own and decides again. Runs in the transaction of what it records
   * (the outbox's), so that neither is written without the other.
   */
  async appendFact(tx: PgQueries, userId: string, body: EventBody, at: Date): Promise<void> {
    const [row] = await tx.select({ state: users.state }).from(users).where(eq(users.id, userId)).for("update");
    if (!row) throw new Error(`no user ${userId} to record ${body.type} for`);
    const { state } = row;
    const event = { ...body, aggregateId: userId, sequence: state.sequence + 1, resourceOwner: state.resourceOwner, createdAt: at } as UserEvent;
    await tx.insert(events).values(event);
    await this.updateUser(tx, apply(state, event));
  }

  private async write(tx: PgQueries, change: UserChange): Promise<void> {
    const [current] = await tx.select({ sequence: users.sequence }).from(users).where(eq(users.id, change.userId)).for("update");
    const sequence = current?.sequence ?? 0;
    if (sequence !== change.expectedSequence) {
      throw new AppendConflict(
        "sequence",
        `user ${change.userId} is at sequence ${sequence}, the change expected ${change.expectedSequence}`,
      );
    }
    await this.limits.lock(tx, change.limited);
    // One after the other, so that a change with two sends (a new user's phone and email) sees the first counted.
    for (const action of change.limited) {
      await this.limits.check(tx, action);
      await this.limits.record(tx, action);
    }
    if (change.events.length > 0) await tx.insert(events).values([...change.events]);
    if (current === undefined) await tx.insert(users).values(userRow(change.next));
    else await this.updateUser(tx, change.next);
    if (change.supersededChannels.length > 0) {
      // A notice to a replaced contact is no code: the change that sent it must not wipe it. A dead message keeps its
      // body for an operator's retry, of a code that is now worthless.
      await tx
        .update(outbox)
        .set({ status: "expired", sealed: null, claimedUntil: null })
        .where(
          and(
            eq(outbox.userId, change.userId),
            inArray(outbox.channel, [...change.supersededChannels]),
            inArray(outbox.status, ["pending", "dead"]),
            eq(outbox.purpose, "code"),
          ),
        );
    }
    if (change.outbox.length > 0) await tx.insert(outbox).values(change.outbox.map(messageRow));
  }

  /** A user's id, organization and creation time never change. */
  private async updateUser(tx: PgQueries, next: UserState): Promise<void> {
    const { id: _id, resourceOwner: _resourceOwner, createdAt: _createdAt, ...changed } = userRow(next);
    await tx.update(users).set(changed).where(eq(users.id, next.id));
  }
}

function userRow(state: UserState) {
  return {
    id: state.id,
    resourceOwner: state.resourceOwner,
    username: state.username,
    sequence: state.sequence,
    createdAt: state.createdAt,
    changedAt: state.changedAt,
    state,
    kind: state.kind,
    status: state.status,
    ...loginContacts(state),
  };
}

function messageRow(message: NewOutboxMessage) {
  return {
    id: message.id,
    userId: message.userId,
    channel: message.channel,
    purpose: message.purpose,
    keyId: message.keyId,
    sealed: Buffer.from(message.sealed),
    createdAt: message.createdAt,
    expiresAt: message.expiresAt,
  };
}

/** A pending change is not a login name until it is verified; the verified address it replaces stays one until then. */
function loginContacts(state: UserState): { verifiedPhone: string | null; verifiedEmail: string | null } {
  if (state.kind !== "human") return { verifiedPhone: null, verifiedEmail: null };
  return { verifiedPhone: state.phone.verified ?? null, verifiedEmail: state.email.verified ?? null };
}
