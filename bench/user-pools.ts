// Which users a run may take. Runs on one database never share a user, so every success verifies a live code and
// every wrong code is judged against one; VerifyPhone takes seeded users, AddHumanUser new numbers.
import { maxUsers } from "./bench-users.js";
import { type Database, type Row, databaseOf } from "./rows.js";

export class UserPools {
  private readonly next = new Map<string, number>();

  /** `seeded`: the users seeded into each database. */
  constructor(private readonly seeded: (database: Database) => number) {}

  /** The first free index of the row's pool and how many free ones follow it. */
  free(row: Row): { first: number; limit: number } {
    const first = this.next.get(poolOf(row)) ?? 0;
    const seeded = this.seeded(databaseOf[row.target]);
    const limit = (row.rpc === "verify-phone" ? seeded : maxUsers) - first;
    if (limit <= 0) throw new Error(`the runs on ${poolOf(row)} have used all ${seeded} seeded users: give a larger --users`);
    return { first, limit };
  }

  take(row: Row, count: number): void {
    this.next.set(poolOf(row), (this.next.get(poolOf(row)) ?? 0) + count);
  }
}

function poolOf(row: Row): string {
  return `${databaseOf[row.target]} ${row.rpc}`;
}
