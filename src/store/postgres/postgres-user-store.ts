// The user aggregate in PostgreSQL, shared by several processes: the event stream, the projection and the outbox change
// in one transaction. The user's row, locked FOR UPDATE, serializes the writers of one user across processes; for a new
// user, which has no row to lock, the primary keys of events and users stop the second of two creators.
import { eq } from "drizzle-orm";
import { type EventBody, type UserEvent, stampedEvent } from "../../domain/events.js";
import type { LimitCharge } from "../../domain/limits/counted-action.js";
import { AppendConflict, type UserChange, type UserStore } from "../../domain/ports.js";
import { type UserState, apply } from "../../domain/user-state.js";
import { columnList, quoted } from "../raw-statement.js";
import { type StorageGuard, unmonitoredStorage } from "../storage-health.js";
import {
  assertAtSequence,
  eventColumnKeys,
  eventParameters,
  messageColumnKeys,
  messageParameters,
  userColumnKeys,
  userErasureStatements,
  userParameters,
} from "../user-change-rows.js";
import { SettingsReadWithUsers } from "../settings-read-with-users.js";
import { reviveUserState } from "../user-state-codec.js";
import { type Queryable, namedStatement, rowsOf, run } from "./named-statement.js";
import type { PgDb } from "./open-postgres.js";
import { isUniqueViolation } from "./postgres-errors.js";
import { PostgresLimitCounter } from "./postgres-limit-counter.js";
import { PostgresSecurityLog } from "./postgres-security-log.js";
import { inTransaction } from "./pool-transaction.js";
import * as schema from "./schema.js";
import { events, organizationSettings, outbox, users } from "./schema.js";
import { deleteInBatches } from "../delete-in-batches.js";

// The statements every command runs (load, and the append's) are sent by name (named-statement.ts), with parameters
// from user-change-rows.ts: drizzle's per-call query building was a measurable share of a VerifyPhone call. jsonb
// parameters are JSON text: node-postgres would send a JS array as a PostgreSQL array.
const eventColumns = eventColumnKeys.map((key) => events[key]);
const userColumns = userColumnKeys.map((key) => users[key]);
const messageColumns = messageColumnKeys.map((key) => outbox[key]);
// A user's id, organization and creation time never change.
const unchanging: readonly (typeof userColumns)[number][] = [users.id, users.resourceOwner, users.createdAt];
const changingUserColumns = userColumns.filter((column) => !unchanging.includes(column));
const parameters = (count: number) => Array.from({ length: count }, (_, index) => `$${index + 1}`).join(", ");
const byId = `FROM ${quoted(users)} WHERE ${quoted(users.id)} = $1`;

// With the user's organization's settings, in the same round trip (settings-read-with-users.ts).
const selectState = namedStatement(
  "users_state_with_settings",
  `SELECT u.${quoted(users.state)}, s.${quoted(organizationSettings.verification)}::text ` +
    `FROM ${quoted(users)} u LEFT JOIN ${quoted(organizationSettings)} s ` +
    `ON s.${quoted(organizationSettings.organizationId)} = u.${quoted(users.resourceOwner)} WHERE u.${quoted(users.id)} = $1`,
);
const selectStateForUpdate = namedStatement("users_state_for_update", `SELECT ${quoted(users.state)} ${byId} FOR UPDATE`);
const selectSequenceForUpdate = namedStatement("users_sequence_for_update", `SELECT ${quoted(users.sequence)} ${byId} FOR UPDATE`);
const insertEvent = namedStatement(
  "events_insert",
  `INSERT INTO ${quoted(events)} (${columnList(eventColumns)}) VALUES (${parameters(eventColumns.length)})`,
);
const insertUser = namedStatement(
  "users_insert",
  `INSERT INTO ${quoted(users)} (${columnList(userColumns)}) VALUES (${parameters(userColumns.length)})`,
);
const updateUser = namedStatement(
  "users_update",
  `UPDATE ${quoted(users)} SET ${changingUserColumns.map((column, index) => `${quoted(column)} = $${index + 2}`).join(", ")} ` +
    `WHERE ${quoted(users.id)} = $1`,
);
// A notice to a replaced contact is no code: the change that sent it must not wipe it. A dead message keeps its body
// for an operator's retry, of a code that is now worthless.
const supersedeMessages = namedStatement(
  "outbox_supersede",
  `UPDATE ${quoted(outbox)} SET ${quoted(outbox.status)} = 'expired', ${quoted(outbox.sealed)} = NULL, ` +
    `${quoted(outbox.claimedUntil)} = NULL WHERE ${quoted(outbox.userId)} = $1 AND ${quoted(outbox.channel)} = ANY($2::text[]) ` +
    `AND ${quoted(outbox.status)} IN ('pending', 'dead') AND ${quoted(outbox.purpose)} = 'code'`,
);
const insertMessage = namedStatement(
  "outbox_insert",
  `INSERT INTO ${quoted(outbox)} (${columnList(messageColumns)}) VALUES (${parameters(messageColumns.length)})`,
);
const erasures = userErasureStatements(schema, "$1").map((text, index) => namedStatement(`users_erase_${index}`, text));

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
    /** Given the settings of each loaded user's organization, as the load read them (settingsReadWith). */
    private readonly settingsReadWithUsers = new SettingsReadWithUsers(),
    /** Where a change writes the security outcomes of the refusal it records. */
    private readonly securityLog: Pick<PostgresSecurityLog, "write"> = new PostgresSecurityLog(db, storage),
  ) {}

  async load(userId: string): Promise<UserState | undefined> {
    return this.storage.use(async () => {
      const [row] = await rowsOf<[unknown, string | null]>(this.db.$client, selectState, [userId]);
      if (row === undefined) return undefined;
      const state = reviveUserState(row[0]);
      this.settingsReadWithUsers.remember(state, row[1]);
      return state;
    });
  }

  async append(change: UserChange): Promise<void> {
    return this.storage.write(async () => {
      try {
        await inTransaction(this.db.$client, (client) => this.write(client, change));
      } catch (error) {
        const known = conflicts.find(([constraint]) => isUniqueViolation(error, constraint));
        if (known) throw new AppendConflict(known[1], known[2](change));
        throw error;
      }
    });
  }

  async countActions(actions: readonly LimitCharge[]): Promise<void> {
    return this.storage.write(() => inTransaction(this.db.$client, (tx) => this.countLimits(tx, actions)));
  }

  async erase(userId: string, expectedSequence: number): Promise<void> {
    return this.storage.write(() =>
      inTransaction(this.db.$client, async (tx) => {
        const [current] = await rowsOf<[number]>(tx, selectSequenceForUpdate, [userId]);
        assertAtSequence(userId, expectedSequence, current?.[0] ?? 0);
        for (const erasure of erasures) await run(tx, erasure, [userId]);
      }),
    );
  }

  /** Deletes the limit entries older than every limit's window; returns how many. */
  async purgeLimitEntries(before: Date): Promise<number> {
    return deleteInBatches((limit) => this.storage.write(() => this.limits.purgeBatch(this.db, before, limit)));
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
   * (the outbox's, on `tx`, its connection), so that neither is written without the other.
   */
  async appendFact(tx: Queryable, userId: string, body: EventBody, at: Date): Promise<void> {
    const [row] = await rowsOf<[unknown]>(tx, selectStateForUpdate, [userId]);
    if (!row) throw new Error(`no user ${userId} to record ${body.type} for`);
    const state = reviveUserState(row[0]);
    const event = stampedEvent(body, userId, state.sequence + 1, state.resourceOwner, at);
    await run(tx, insertEvent, eventParameters(event, asDate));
    await run(tx, updateUser, changedUserParameters(apply(state, event)));
  }

  private async write(tx: Queryable, change: UserChange): Promise<void> {
    const [current] = await rowsOf<[number]>(tx, selectSequenceForUpdate, [change.userId]);
    assertAtSequence(change.userId, change.expectedSequence, current?.[0] ?? 0);
    await this.countLimits(tx, change.limited);
    for (const event of change.events) await run(tx, insertEvent, eventParameters(event, asDate));
    if (current === undefined) await run(tx, insertUser, userParameters(change.next, asDate));
    else await run(tx, updateUser, changedUserParameters(change.next));
    if (change.supersededChannels.length > 0) await run(tx, supersedeMessages, [change.userId, [...change.supersededChannels]]);
    for (const message of change.outbox) await run(tx, insertMessage, messageParameters(message, asDate));
    for (const { event, at } of change.securityEvents ?? []) await this.securityLog.write(tx, event, at);
  }

  /** Checks and records the actions in the transaction on `tx`, with their series locked until it ends. */
  private async countLimits(tx: Queryable, actions: readonly LimitCharge[]): Promise<void> {
    await this.limits.lock(tx, actions);
    // One after the other, so that a change with two sends (a new user's phone and email) sees the first counted.
    for (const action of actions) {
      await this.limits.check(tx, action);
      await this.limits.record(tx, action);
    }
  }
}

const asDate = (at: Date) => at;


/** The parameters of updateUser: the id, then changingUserColumns. */
function changedUserParameters(state: UserState): unknown[] {
  const [id, , username, sequence, , changedAt, ...rest] = userParameters(state, asDate);
  return [id, username, sequence, changedAt, ...rest];
}
