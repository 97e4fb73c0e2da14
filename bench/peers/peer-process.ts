// What both peers' processes share: `--port` and `--database` from the command line, the master secret from the
// environment, the service over its database, and an exit on SIGTERM (the bench's stop).
import { parseArgs } from "node:util";
import { peerKeys, peerSecretVariable } from "./peer-keys.js";
import { PeerService } from "./peer-service.js";
import { openPeerDatabase } from "./peer-store.js";

export function startPeerService(): { port: number; service: PeerService } {
  const { values } = parseArgs({ options: { port: { type: "string" }, database: { type: "string" } } });
  const secret = process.env[peerSecretVariable];
  if (!values.port || !values.database || !secret) {
    console.error(`usage: ${peerSecretVariable}=<base64> node <peer>.js --port <n> --database <file>`);
    process.exit(2);
  }
  const db = openPeerDatabase(values.database);
  process.once("SIGTERM", () => {
    db.close();
    process.exit(0);
  });
  return { port: Number(values.port), service: new PeerService(db, peerKeys(Buffer.from(secret, "base64"))) };
}
