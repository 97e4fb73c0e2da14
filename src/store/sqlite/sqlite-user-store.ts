// The user aggregate in SQLite: the event stream, the projection and the outbox change together or not at all.
import type { Statement } from "better-sqlite3";
import { eq, sql } from "drizzle-orm";
import { type EventBody, type UserEvent, stampedEvent } from "../../domain/events.js";
import type { LimitCharge } from "../../domain/limits/counted-action.js";
import { AppendConflict, type UserChange, type UserStore } from "../../domain/ports.js";
import { type UserState, apply } from "../../domain/user-state.js";
import type { Db } from "./open-database.js";
import { groupCommitFor } from "./group-commit.js";
import { columnList, quoted } from "../raw-statement.js";
import * as schema from "./schema.js";
import { events, organizationSettings, outbox, users } from "./schema.js";
import { isUniqueViolation } from "./sqlite-errors.js";
import { SqliteLimitCounter } from "./sqlite-limit-counter.js";
import { SqliteSecurityLog } from "./sqlite-security-log.js";
import { SettingsReadWithUsers } from "../settings-read-with-users.js";
import { type StorageGuard, unmonitoredStorage } from "../storage-health.js";
import { deleteInBatches } from "../delete-in-batches.js";
import {
  assertAtSequence,
  eventColumnKeys,
  eventParameters,
  loginContacts,
  messageColumnKeys,
  messageParameters,
  userColumnKeys,
  userErasureStatements,
  userParameters,
} from "../user-change-rows.js";
import { deserializeUserState, serializeUserState } from "../user-state-codec.js";

const placeholder = sql.placeholder;

// The statements every command runs (load, and the append's check and writes) are better-sqlite3 statements prepared
// once, with parameters from user-change-rows.ts and rows mapped by small functions here: drizzle's per-call mapping
// around them was a measurable share of a VerifyPhone call in `npm run bench -- --profile`. Names come from schema.ts.
// Timestamps are integer milliseconds, as the schema's timestamp columns store them.
const eventColumns = eventColumnKeys.map((key) => events[key]);
const userColumns = userColumnKeys.map((key) => users[key]);
const messageColumns = messageColumnKeys.map((key) => outbox[key]);
const parameters = (count: number) => Array(count).fill("?").join(", ");

export class SqliteUserStore implements UserStore {
  private readonly selectState;
  private readonly selectCurrent;
  private readonly selectEvents;
  private readonly insertEvent;
  private readonly insertUser;
  private readonly userUpdates;
  private readonly insertMessage;
  private readonly supersedeMessages;
  private readonly erasures;
  private readonly limits;
  private readonly commit;

  constructor(
    db: Db,
    private readonly storage: StorageGuard = unmonitoredStorage,
    /** Given the settings of each loaded user's organization, as the load read them (settingsReadWith). */
    private readonly settingsReadWithUsers = new SettingsReadWithUsers(),
    /** Where a change writes the security outcomes of the refusal it records. */
    private readonly securityLog: Pick<SqliteSecurityLog, "write"> = new SqliteSecurityLog(db, storage),
  ) {
    const client = db.$client;
    // The user's organization's settings in the same read: a command decides on both, and one read transaction
    // costs less than two.
    this.selectState = client
      .prepare(
        `SELECT u.${quoted(users.state)}, s.${quoted(organizationSettings.verification)} ` +
          `FROM ${quoted(users)} u LEFT JOIN ${quoted(organizationSettings)} s ` +
          `ON s.${quoted(organizationSettings.organizationId)} = u.${quoted(users.resourceOwner)} WHERE u.${quoted(users.id)} = ?`,
      )
      .raw() as Statement<[string], [state: string, settings: string | null]>;
    // The row's sequence is the stream's: both are written in every append's transaction.
    this.selectCurrent = client
      .prepare(`SELECT ${columnList(currentColumns)} FROM ${quoted(users)} WHERE ${quoted(users.id)} = ?`)
      .raw() as Statement<[string], CurrentRow>;
    this.selectEvents = db
      .select()
      .from(events)
      .where(eq(events.aggregateId, placeholder("id")))
      .orderBy(events.sequence)
      .prepare();
    this.insertEvent = client.prepare<unknown[]>(
      `INSERT INTO ${quoted(events)} (${columnList(eventColumns)}) VALUES (${parameters(eventColumns.length)})`,
    );
    this.insertUser = client.prepare<unknown[]>(
      `INSERT INTO ${quoted(users)} (${columnList(userColumns)}) VALUES (${parameters(userColumns.length)})`,
    );
    this.userUpdates = new UserUpdates(client);
    this.insertMessage = client.prepare<unknown[]>(
      `INSERT INTO ${quoted(outbox)} (${columnList(messageColumns)}) VALUES (${parameters(messageColumns.length)})`,
    );
    // A notice to a replaced contact is no code: the change that sent it must not wipe it. A dead message keeps its
    // body for an operator's retry, of a code that is now worthless.
    this.supersedeMessages = client.prepare<[string, string]>(
      `UPDATE ${quoted(outbox)} SET ${quoted(outbox.status)} = 'expired', ${quoted(outbox.sealed)} = NULL, ` +
        `${quoted(outbox.claimedUntil)} = NULL WHERE ${quoted(outbox.userId)} = ? AND ${quoted(outbox.channel)} = ? ` +
        `AND ${quoted(outbox.status)} IN ('pending', 'dead') AND ${quoted(outbox.purpose)} = 'code'`,
    );
    this.erasures = userErasureStatements(schema, "?").map((text) => client.prepare<[string]>(text));
    this.limits = new SqliteLimitCounter(db);
    this.commit = groupCommitFor(client, storage.write);
  }

  async load(userId: string): Promise<UserState | undefined> {
    return this.storage.use(() => this.loadState(userId));
  }

  async append(change: UserChange): Promise<void> {
    try {
      await this.commit(() => this.write(change));
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
      // An index on an expression names itself, not its columns.
      if (isUniqueViolation(error, "index 'users_username_unique'")) {
        throw new AppendConflict("username", `username ${change.next.username} is taken`);
      }
      throw error;
    }
  }

  async countActions(actions: readonly LimitCharge[]): Promise<void> {
    await this.commit(() => {
      // Every check before the first write, as in write(): a refusal then has nothing to undo.
      for (const action of actions) this.limits.check(action);
      this.recordLimits(actions);
    });
  }

  async erase(userId: string, expectedSequence: number): Promise<void> {
    await this.commit(() => {
      assertAtSequence(userId, expectedSequence, this.selectCurrent.get(userId)?.[0] ?? 0);
      for (const erasure of this.erasures) erasure.run(userId);
    });
  }

  /** Deletes the limit entries older than every limit's window; returns how many. */
  async purgeLimitEntries(before: Date): Promise<number> {
    return deleteInBatches((limit) => this.storage.write(() => this.limits.purgeBatch(before, limit)));
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
    const state = this.loadState(userId);
    if (!state) throw new Error(`no user ${userId} to record ${body.type} for`);
    const event = stampedEvent(body, userId, state.sequence + 1, state.resourceOwner, at);
    this.insertEvent.run(eventParameters(event, milliseconds));
    this.writeUser(apply(state, event), this.selectCurrent.get(userId));
  }

  private loadState(userId: string): UserState | undefined {
    const row = this.selectState.get(userId);
    if (row === undefined) return undefined;
    const [text, settings] = row;
    const state = deserializeUserState(text);
    this.settingsReadWithUsers.remember(state, settings);
    return state;
  }

  private write(change: UserChange): void {
    const current = this.selectCurrent.get(change.userId);
    assertAtSequence(change.userId, change.expectedSequence, current?.[0] ?? 0);
    // What may refuse the change runs before its first write, and that write, the user's row with its unique lookup
    // columns, undoes itself when it fails: a refused change then needs no savepoint of its own (group-commit.ts).
    for (const action of change.limited) this.limits.check(action);
    this.writeUser(change.next, current);
    this.recordLimits(change.limited);
    for (const event of change.events) this.insertEvent.run(eventParameters(event, milliseconds));
    for (const channel of change.supersededChannels) this.supersedeMessages.run(change.userId, channel);
    for (const message of change.outbox) this.insertMessage.run(messageParameters(message, milliseconds));
    for (const { event, at } of change.securityEvents ?? []) this.securityLog.write(event, at);
  }

  /** Records actions checked already, each checked again once those before it are counted. */
  private recordLimits(actions: readonly LimitCharge[]): void {
    actions.forEach((action, index) => {
      // Again after the actions before it are counted: a change with two sends (a new user's phone and email) may
      // count both in one series.
      if (index > 0) this.limits.check(action);
      this.limits.record(action);
    });
  }

  private writeUser(next: UserState, current: CurrentRow | undefined): void {
    if (current === undefined) this.insertUser.run(userParameters(next, milliseconds));
    else this.userUpdates.run(next, current);
  }
}

// What a change needs of the stored row: its sequence, and the lookup columns, to update only those that change.
const currentColumns = [users.sequence, users.username, users.verifiedPhone, users.verifiedEmail];
type CurrentRow = [sequence: number, username: string, verifiedPhone: string | null, verifiedEmail: string | null];

/**
 * Updates of a user's row that set the lookup columns (each in a unique index) only when they change, one statement per
 * combination, prepared when first needed: SQLite updates an index for every column an UPDATE sets, changed or not, and
 * most changes (a code, a failed attempt, a verification of the phone) touch one lookup column or none. A user's id,
 * organization and creation time never change.
 */
class UserUpdates {
  private readonly statements = new Map<number, Statement<unknown[]>>();

  constructor(private readonly client: Db["$client"]) {}

  run(next: UserState, [, username, verifiedPhone, verifiedEmail]: CurrentRow): void {
    const contacts = loginContacts(next);
    const changed = [next.username !== username, contacts.verifiedPhone !== verifiedPhone, contacts.verifiedEmail !== verifiedEmail];
    const values: unknown[] = [next.sequence, next.changedAt.getTime(), serializeUserState(next), next.kind, next.status];
    if (changed[0]) values.push(next.username);
    if (changed[1]) values.push(contacts.verifiedPhone);
    if (changed[2]) values.push(contacts.verifiedEmail);
    values.push(next.id);
    this.statement(changed).run(values);
  }

  private statement(changed: boolean[]): Statement<unknown[]> {
    const key = changed.reduce((bits, isChanged, index) => bits | (isChanged ? 1 << index : 0), 0);
    let statement = this.statements.get(key);
    if (!statement) {
      const lookups = [users.username, users.verifiedPhone, users.verifiedEmail].filter((_, index) => changed[index]);
      const set = [users.sequence, users.changedAt, users.state, users.kind, users.status, ...lookups];
      statement = this.client.prepare<unknown[]>(
        `UPDATE ${quoted(users)} SET ${set.map((column) => `${quoted(column)} = ?`).join(", ")} WHERE ${quoted(users.id)} = ?`,
      );
      this.statements.set(key, statement);
    }
    return statement;
  }
}

const milliseconds = (at: Date) => at.getTime();
