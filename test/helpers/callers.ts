// Callers for access-control tests: users with tokens and roles, made straight in the test server's database (as the
// PAT and administrator RPCs will), plus organizations to put them in.
import { randomInt } from "node:crypto";
import type { Role } from "../../src/domain/access/principal.js";
import type { EventBody, UserEvent } from "../../src/domain/events.js";
import { createIdGenerator } from "../../src/domain/ids.js";
import { apply } from "../../src/domain/user-state.js";
import { issueAccessToken } from "../../src/crypto/access-token-secret.js";
import { type DatabaseHandle, openDatabase } from "../../src/store/open-database.js";
import { SqliteAccessTokenStore } from "../../src/store/sqlite-access-token-store.js";
import { SqliteMemberStore } from "../../src/store/sqlite-member-store.js";
import { SqliteOrganizationStore } from "../../src/store/sqlite-organization-store.js";
import { SqliteUserStore } from "../../src/store/sqlite-user-store.js";
import { expectOk, protocolClient } from "./protocol-clients.js";
import type { TestServer } from "./test-server.js";

export interface Caller {
  userId: string;
  organizationId: string;
  token: string;
  tokenId: string;
}

export interface CallerFactory {
  /** A new organization's id. */
  addOrganization(name?: string): Promise<string>;
  /** A person in `organizationId` (default: the default organization) with a token and these roles. */
  addCaller(options?: { organizationId?: string; roles?: Record<string, Role[]> }): Promise<Caller>;
  /** Another token for a user, expiring after `ttlMs` of the server's clock. */
  addToken(userId: string, ttlMs?: number): Promise<{ token: string; tokenId: string }>;
  removeToken(userId: string, tokenId: string): Promise<boolean>;
  /** Appends a status event (user.deactivated, user.locked, ...) through the user store, as a command would. */
  changeStatus(userId: string, type: "user.deactivated" | "user.reactivated" | "user.locked" | "user.unlocked"): Promise<void>;
  close(): void;
}

const dayMs = 24 * 60 * 60 * 1000;

export function callerFactory(server: TestServer): CallerFactory {
  const database: DatabaseHandle = openDatabase(server.config.database, { integrityCheck: false });
  const newId = createIdGenerator(server.clock.now, randomInt);
  const tokens = new SqliteAccessTokenStore(database.db);
  const members = new SqliteMemberStore(database.db);
  const users = new SqliteUserStore(database.db);
  const organizations = new SqliteOrganizationStore(database.db, newId);
  const admin = protocolClient("connect-json", server.url, server.adminToken);

  const addToken = async (userId: string, ttlMs = dayMs) => {
    const { token, tokenHash } = issueAccessToken();
    const now = server.clock.now();
    const tokenId = newId();
    await tokens.add({ id: tokenId, userId, kind: "personal", createdAt: now, expiresAt: new Date(now.getTime() + ttlMs), tokenHash });
    return { token, tokenId };
  };

  return {
    async addOrganization(name = `org-${newId()}`) {
      const id = newId();
      await organizations.add({ id, name, createdAt: server.clock.now() });
      return id;
    },
    async addCaller({ organizationId, roles = {} } = {}) {
      const username = `caller-${newId()}`;
      const added = expectOk(
        await admin.call("addHumanUser", {
          ...(organizationId ? { organization: { orgId: organizationId } } : {}),
          username,
          profile: { givenName: "Test", familyName: "Caller" },
          email: { email: `${username}@callers.example.com`, isVerified: true },
        }),
      );
      const userId = added.userId as string;
      const state = await users.load(userId);
      const now = server.clock.now();
      for (const [resource, granted] of Object.entries(roles)) {
        await members.add({ userId, organizationId: resource, roles: granted, createdAt: now, changedAt: now });
      }
      return { userId, organizationId: state!.resourceOwner, ...(await addToken(userId)) };
    },
    addToken,
    removeToken: (userId, tokenId) => tokens.remove(userId, tokenId),
    async changeStatus(userId, type) {
      const state = await users.load(userId);
      if (!state) throw new Error(`no user ${userId}`);
      const body: EventBody = { type, payload: {} };
      const event = { ...body, aggregateId: userId, sequence: state.sequence + 1, resourceOwner: state.resourceOwner, createdAt: server.clock.now() } as UserEvent;
      await users.append({
        userId,
        expectedSequence: state.sequence,
        events: [event],
        next: apply(state, event),
        supersededChannels: [],
        outbox: [],
      });
    },
    close: () => database.close(),
  };
}
