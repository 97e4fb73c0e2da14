// Which users a run may take. Runs on one database never share a user, so every success verifies a live code and
// every wrong code is judged against one; VerifyPhone takes seeded users, AddHumanUser new numbers.
import { maxUsers } from "./bench-users.js";
import type { Row } from "./rows.js";

export class UserPools {
  private readonly next = new Map<string, number>();

  constructor(private readonly seeded: number) {}

  /** The first free index of the row's pool and how many free ones follow it. */
  free(row: Row): { first: number; limit: number } {
    const first = this.next.get(poolOf(row)) ?? 0;
    const limit = (row.rpc === "verify-phone" ? this.seeded : maxUsers) - first;
    if (limit <= 0) throw new Error(`the runs on ${poolOf(row)} have used all ${this.seeded} seeded users: give a larger --users`);
    return { first, limit };
  }

  take(row: Row, count: number): void {
    this.next.set(poolOf(row), (this.next.get(poolOf(row)) ?? 0) + count);
  }
}

/** The peers share one database. */
function poolOf(row: Row): string {
  return `${row.target === "verifyd" ? "verifyd" : "the peers"}' ${row.rpc}`;
}
