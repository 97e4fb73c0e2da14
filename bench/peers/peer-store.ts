// The peers' storage, as a Node team writes it for phone verification with better-sqlite3: a users table holding the
// pending code's hash, an event table, bearer tokens by hash, an outbox of sealed messages. WAL with
// synchronous=NORMAL, the durability verifyd runs with, so neither side is faster for losing more in a power cut.
//
// Files under bench/peers/ are compiled on their own for the peers' processes: they import packages, not other bench
// files.
import Database from "better-sqlite3";

const schema = `
  CREATE TABLE IF NOT EXISTS users (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL,
    given_name TEXT NOT NULL,
    family_name TEXT NOT NULL,
    phone TEXT,
    phone_verified INTEGER NOT NULL DEFAULT 0,
    code_hash BLOB,
    code_expires_at INTEGER,
    code_attempts INTEGER NOT NULL DEFAULT 0,
    sequence INTEGER NOT NULL,
    changed_at INTEGER NOT NULL
  );
  CREATE TABLE IF NOT EXISTS events (
    user_id TEXT NOT NULL,
    sequence INTEGER NOT NULL,
    type TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, sequence)
  );
  CREATE TABLE IF NOT EXISTS tokens (
    hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    expires_at INTEGER NOT NULL
  );
  CREATE TABLE IF NOT EXISTS outbox (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    sealed BLOB NOT NULL,
    created_at INTEGER NOT NULL
  );
`;

/** The one organization of a peer: it has no organizations of its own, only a resource owner to answer with. */
export const peerOrganization = "peer-organization";

export interface PeerUserRow {
  org_id: string;
  phone: string | null;
  phone_verified: number;
  code_hash: Buffer | null;
  code_expires_at: number | null;
  code_attempts: number;
  sequence: number;
}

export function openPeerDatabase(path: string): Database.Database {
  const db = new Database(path);
  db.pragma("busy_timeout = 5000");
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  db.exec(schema);
  return db;
}
