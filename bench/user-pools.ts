// Which users a run may take. Runs on one database never share a user, so every success verifies a live code and
// every wrong code is judged against one; VerifyPhone takes seeded users, AddHumanUser new numbers. Each run on a pool
// gets an equal block of it up front: on a machine faster than the seed was sized for, a phase ends early (with a
// warning) instead of a later row finding no user left.
import { maxUsers } from "./bench-users.js";
import { type Database, type Row, databaseOf } from "./rows.js";

export class UserPools {
  private readonly claimed = new Map<string, number>();

  /** `seeded`: the users seeded into each database; `rows`, each run `repeats` times: every run the pools serve. */
  constructor(
    private readonly seeded: (database: Database) => number,
    private readonly rows: readonly Row[],
    private readonly repeats: number,
  ) {}

  /** The block of users the row's next run takes its calls from. */
  claim(row: Row): UserBlock {
    const pool = poolOf(row);
    const runsOnPool = this.rows.filter((other) => poolOf(other) === pool).length * this.repeats;
    const size = Math.floor((row.rpc === "verify-phone" ? this.seeded(databaseOf[row.target]) : maxUsers) / runsOnPool);
    const index = this.claimed.get(pool) ?? 0;
    if (index >= runsOnPool) throw new Error(`${row.id} runs more often than the pools were divided for`);
    this.claimed.set(pool, index + 1);
    return new UserBlock(index * size, size);
  }
}

/** One run's users, taken phase by phase from the first. */
export class UserBlock {
  private used = 0;

  constructor(
    private readonly first: number,
    private readonly size: number,
  ) {}

  /** How many users are left. */
  get left(): number {
    return this.size - this.used;
  }

  /** The next free user, and how many the next phase may take: those left, at most `cap`. */
  next(cap: number): { first: number; limit: number } {
    return { first: this.first + this.used, limit: Math.min(this.left, cap) };
  }

  take(count: number): void {
    this.used += count;
  }
}

function poolOf(row: Row): string {
  return `${databaseOf[row.target]} ${row.rpc}`;
}
