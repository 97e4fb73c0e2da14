// The UserService RPCs about accounts rather than contacts: service accounts and their tokens, listing users,
// passwords, deactivating or locking, and deleting. Each applies its rule from access-rules.ts before it acts.
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import { organizationsWith } from "../domain/access/access-decisions.js";
import type { Principal } from "../domain/access/principal.js";
import type { MemberStore } from "../domain/access/member.js";
import type { AccessTokenRecord, AccessTokenStore, IssuedAccessToken } from "../domain/credentials/access-token.js";
import { parseLoginName } from "../domain/credentials/login-name.js";
import { loginRetryAfterMs } from "../domain/credentials/login-throttle.js";
import { type LoginStore, checkAdmittedAttempt } from "../domain/credentials/password-login.js";
import type { SecurityEventKind } from "../domain/security/security-event.js";
import { errors } from "../domain/errors.js";
import type { IdGenerator } from "../domain/ids.js";
import type { PhonePolicy } from "../domain/phone-number.js";
import type { Clock, UserStore } from "../domain/ports.js";
import type { UserCommands } from "../domain/user-commands.js";
import type { ReadableUsers, UserFilter, UserQueryStore, UserSortKey } from "../domain/users/user-query.js";
import type { StatusChange } from "../domain/users/user-status.js";
import type { PersonalAccessTokensSearchFilter } from "../gen/zitadel/user/v2/pat_pb.js";
import { type SearchQuery, Type, UserFieldName } from "../gen/zitadel/user/v2/query_pb.js";
import { UserState as WireUserState } from "../gen/zitadel/user/v2/user_pb.js";
import { AddPersonalAccessTokenRequestSchema, type UserService } from "../gen/zitadel/user/v2/user_service_pb.js";
import { authorizeInOrganization, authorizeListing, authorizeServiceAccountTokens, callerOf } from "./authorization.js";
import { refuseFieldViolations } from "./field-violations.js";
import {
  checkFilterCount,
  checkTextQueries,
  createListCallLimit,
  matchesTimestampFilter,
  toListDetails,
  toPage,
  toTextMatch,
} from "./list-mapping.js";
import { toDetails, toNewContact, toNewPassword, toProfile, toUser } from "./proto-mapping.js";
import { keepAnotherActiveInstanceOwner } from "./instance-owners.js";
import type { SecurityRecorder } from "./security-recorder.js";
import { authorizedUser } from "./target-user.js";
import { requestIdIn } from "./request-context.js";

export interface UserAccountsDeps {
  commands: UserCommands;
  userQuery: UserQueryStore;
  tokens: AccessTokenStore;
  members: Pick<MemberStore, "grantsOf" | "list">;
  users: Pick<UserStore, "load">;
  /** The login throttle, which checks of a current password share. */
  logins: Pick<LoginStore, "admitAttempt" | "clearFailures" | "forgetAttempt">;
  /** How a login reads a name: a current password counts under the key a login by the username counts under. */
  phonePolicy: PhonePolicy;
  issueToken(): IssuedAccessToken;
  newId: IdGenerator;
  clock: Clock;
  /** Lifetime of a personal access token asked for without an expiration date. */
  personalTokenTtlMs: number;
  recordSecurityEvent: SecurityRecorder;
}

export type AccountMethods = Pick<
  ServiceImpl<typeof UserService>,
  | "createUser"
  | "listUsers"
  | "deleteUser"
  | "deactivateUser"
  | "reactivateUser"
  | "lockUser"
  | "unlockUser"
  | "setPassword"
  | "addPersonalAccessToken"
  | "removePersonalAccessToken"
  | "listPersonalAccessTokens"
>;

export function createUserAccountsHandler(deps: UserAccountsDeps): AccountMethods {
  const { commands } = deps;
  const listCallOfCaller = createListCallLimit();

  /** A service account whose tokens the caller may manage; anyone else's are refused as its rule says. */
  const tokenOwner = async (ctx: Parameters<AccountMethods["addPersonalAccessToken"]>[1], userId: string) => {
    const state = await commands.getUser(userId);
    authorizeServiceAccountTokens(ctx, { userId, organizationId: state.resourceOwner }, await deps.members.grantsOf(userId));
    if (state.kind !== "machine") throw errors.userNotMachine();
    return state;
  };

  /** `disables`: the change stops the user from acting (deactivate, lock), which the last IAM_OWNER may not. */
  const statusChange =
    (change: StatusChange, disables: boolean) =>
    async (req: { userId: string }, ctx: Parameters<AccountMethods["lockUser"]>[1]) => {
      await authorizedUser(deps, ctx, req.userId);
      if (disables) await keepAnotherActiveInstanceOwner(deps, req.userId);
      const details = await commands.changeStatus(req.userId, change);
      await recordChangeOfUser(deps, ctx, "user.status.changed", { userId: req.userId, organizationId: details.resourceOwner }, { change });
      return { details: toDetails(details) };
    };

  return {
    async createUser(req, ctx) {
      const caller = authorizeInOrganization(ctx, req.organizationId, req.userId);
      if (req.userType.case === "machine") {
        const { name, description } = req.userType.value;
        // As ZITADEL: a service account's username defaults to its user id, so two may share a name.
        const userId = req.userId ?? deps.newId();
        const created = await commands.createMachineUser({
          organizationId: req.organizationId,
          userId,
          username: req.username ?? userId,
          name,
          description: description ?? "",
        });
        return { id: created.userId, creationDate: timestampFromDate(created.details.changeDate) };
      }
      if (req.userType.case !== "human") throw new Error("validation admits CreateUser only with a user type");
      const human = req.userType.value;
      const password = toNewPassword(human.passwordType);
      // The fields every call has first (README, performance, step 41).
      const result = await commands.addHumanUser({
        organizationId: req.organizationId,
        profile: human.profile ? toProfile(human.profile) : { givenName: "", familyName: "" },
        ...(req.userId === undefined ? {} : { userId: req.userId }),
        ...(req.username === undefined ? {} : { username: req.username }),
        ...(human.email?.email ? { email: toNewContact(human.email.email, human.email.verification) } : {}),
        ...(human.phone?.phone ? { phone: toNewContact(human.phone.phone, human.phone.verification) } : {}),
        ...(password ? { password } : {}),
      }, { callerId: caller.userId });
      return {
        id: result.userId,
        creationDate: timestampFromDate(result.details.changeDate),
        ...(result.emailCode === undefined ? {} : { emailCode: result.emailCode }),
        ...(result.phoneCode === undefined ? {} : { phoneCode: result.phoneCode }),
      };
    },

    async listUsers(req, ctx) {
      const caller = authorizeListing(ctx);
      checkFilterCount(req.queries.reduce((count, query) => count + queryCount(query), 0));
      const filters = req.queries.map(toUserFilter);
      checkTextQueries(filters.flatMap(textValues));
      const page = await listCallOfCaller(caller.userId, () =>
        deps.userQuery.list({
          ...toPage(req.query),
          filters,
          readable: readableUsers(caller),
          sortBy: userSortKeys[req.sortingColumn] ?? "creation",
        }),
      );
      return { details: toListDetails(page.total, deps.clock.now()), sortingColumn: req.sortingColumn, result: page.users.map(toUser) };
    },

    async deleteUser(req, ctx) {
      await authorizedUser(deps, ctx, req.userId);
      await keepAnotherActiveInstanceOwner(deps, req.userId);
      const details = await commands.deleteUser(req.userId);
      await recordChangeOfUser(deps, ctx, "user.removed", { userId: req.userId, organizationId: details.resourceOwner });
      return { details: toDetails(details) };
    },

    deactivateUser: statusChange("deactivate", true),
    reactivateUser: statusChange("reactivate", false),
    lockUser: statusChange("lock", true),
    unlockUser: statusChange("unlock", false),

    async setPassword(req, ctx) {
      const currentPassword = req.verification.case === "currentPassword" ? req.verification.value : undefined;
      const user = await authorizedUser(deps, ctx, req.userId, { currentPasswordGiven: currentPassword !== undefined });
      const caller = callerOf(ctx);
      const newPassword = toNewPassword({ case: "password", value: req.newPassword });
      if (!newPassword) throw new Error("validation admits SetPassword only with a new password");
      // A current password is a guess like a login's: it counts against the same throttle as the username's logins,
      // so a stolen login token cannot be turned into the password by trying.
      // Under the key a login by the username counts under (`Dana` as `dana`): before, `Dana` had a budget here and
      // another for its logins (a white-box review's finding).
      const throttleKey = parseLoginName(user.username, deps.phonePolicy).key;
      if (currentPassword !== undefined) {
        const waitMs = await deps.logins.admitAttempt(throttleKey, deps.clock.now(), loginRetryAfterMs);
        if (waitMs > 0) throw errors.passwordChecksThrottled(waitMs);
      }
      const change = () =>
        commands.setPassword(req.userId, newPassword, {
          ...(currentPassword === undefined ? {} : { currentPassword }),
          // Changing one's own password takes the current one, whatever else the caller may do.
          requireCurrentPassword: caller.userId === req.userId,
        });
      // Refused as busy, the current password was never checked (the new one is hashed first): no guess to count.
      const details = currentPassword === undefined ? await change() : await checkAdmittedAttempt(deps.logins, throttleKey, change);
      if (currentPassword !== undefined) await deps.logins.clearFailures(throttleKey);
      await recordChangeOfUser(deps, ctx, "password.changed", { userId: req.userId, organizationId: user.resourceOwner }, {
        currentPasswordGiven: String(currentPassword !== undefined),
      });
      await endLoginsAfterPasswordChange(deps, ctx, req.userId, user.resourceOwner);
      return { details: toDetails(details) };
    },

    async addPersonalAccessToken(req, ctx) {
      const owner = await tokenOwner(ctx, req.userId);
      const now = deps.clock.now();
      const expiresAt = req.expirationDate ? timestampDate(req.expirationDate) : new Date(now.getTime() + deps.personalTokenTtlMs);
      // Also a Timestamp beyond what a Date holds (past year 275760), which reads as NaN and compares as false.
      if (!(expiresAt <= latestExpiry)) {
        refuseFieldViolations(AddPersonalAccessTokenRequestSchema.name, [
          { field: "expiration_date", description: `must be at most ${latestExpiry.toISOString()}`, reason: "timestamp.lte" },
        ]);
      }
      if (expiresAt <= now) {
        refuseFieldViolations(AddPersonalAccessTokenRequestSchema.name, [
          { field: "expiration_date", description: "must be in the future", reason: "timestamp.gt_now" },
        ]);
      }
      const { token, tokenHash } = deps.issueToken();
      const tokenId = deps.newId();
      await deps.tokens.add({ id: tokenId, userId: req.userId, kind: "personal", createdAt: now, expiresAt, tokenHash });
      await recordChangeOfUser(deps, ctx, "token.created", { userId: req.userId, organizationId: owner.resourceOwner }, {
        tokenId,
        kind: "personal",
      });
      return { tokenId, token, creationDate: timestampFromDate(now) };
    },

    async removePersonalAccessToken(req, ctx) {
      const owner = await tokenOwner(ctx, req.userId);
      if (!(await deps.tokens.remove(req.userId, req.tokenId))) throw errors.tokenNotFound();
      await recordChangeOfUser(deps, ctx, "token.removed", { userId: req.userId, organizationId: owner.resourceOwner }, {
        tokenId: req.tokenId,
        kind: "personal",
      });
      return { deletionDate: timestampFromDate(deps.clock.now()) };
    },

    async listPersonalAccessTokens(req, ctx) {
      const userFilter = req.filters.find((filter) => filter.filter.case === "userIdFilter");
      if (userFilter?.filter.case !== "userIdFilter") {
        throw new ConnectError(
          'give a user_id_filter (in JSON: {"filters":[{"userIdFilter":{"id":"…"}}]}): tokens are listed per service account',
          Code.InvalidArgument,
        );
      }
      const owner = await tokenOwner(ctx, userFilter.filter.value.id);
      const matching = (await deps.tokens.list(owner.id, "personal")).filter((token) =>
        req.filters.every((filter) => matchesTokenFilter(filter, token, owner.resourceOwner)),
      );
      const page = toPage(req.pagination);
      const ordered = page.ascending ? matching : [...matching].reverse();
      return {
        pagination: { totalResult: BigInt(matching.length), appliedLimit: BigInt(page.limit) },
        result: ordered.slice(page.offset, page.offset + page.limit).map((token) => ({
          id: token.id,
          userId: token.userId,
          organizationId: owner.resourceOwner,
          creationDate: timestampFromDate(token.createdAt),
          changeDate: timestampFromDate(token.createdAt),
          expirationDate: timestampFromDate(token.expiresAt),
        })),
      };
    },
  };
}

const statuses: Partial<Record<WireUserState, "active" | "inactive" | "locked">> = {
  [WireUserState.ACTIVE]: "active",
  [WireUserState.INACTIVE]: "inactive",
  [WireUserState.LOCKED]: "locked",
};
/** UNSPECIFIED, and values a newer ZITADEL may add, sort by creation. */
const userSortKeys: Partial<Record<UserFieldName, UserSortKey>> = {
  [UserFieldName.USER_NAME]: "username",
  [UserFieldName.FIRST_NAME]: "givenName",
  [UserFieldName.LAST_NAME]: "familyName",
  [UserFieldName.NICK_NAME]: "nickName",
  [UserFieldName.DISPLAY_NAME]: "displayName",
  [UserFieldName.EMAIL]: "email",
  [UserFieldName.STATE]: "status",
  [UserFieldName.TYPE]: "type",
  [UserFieldName.CREATION_DATE]: "creation",
};
const matchesNobody: UserFilter = { kind: "or", filters: [] };
const matchesEveryone: UserFilter = { kind: "and", filters: [] };

/** Unsupported kinds are refused before the handler; protovalidate leaves queries nested in or/and/not unchecked. */
function toUserFilter(query: SearchQuery): UserFilter {
  const { query: kind } = query;
  switch (kind.case) {
    case "userNameQuery":
      return { kind: "username", username: kind.value.userName, match: toTextMatch(kind.value.method) };
    case "emailQuery":
      return { kind: "email", email: kind.value.emailAddress, match: toTextMatch(kind.value.method) };
    case "phoneQuery":
      return { kind: "phone", phone: kind.value.number, match: toTextMatch(kind.value.method) };
    case "stateQuery": {
      // Users are never "initial" or "deleted" here.
      const status = statuses[kind.value.state];
      return status ? { kind: "status", status } : matchesNobody;
    }
    case "typeQuery":
      if (kind.value.type === Type.UNSPECIFIED) return matchesEveryone;
      return { kind: "type", type: kind.value.type === Type.MACHINE ? "machine" : "human" };
    case "organizationIdQuery":
      return { kind: "organization", organizationId: kind.value.organizationId };
    case "inUserIdsQuery":
      return { kind: "ids", ids: kind.value.userIds };
    case "orQuery":
      return { kind: "or", filters: kind.value.queries.map(toUserFilter) };
    case "andQuery":
      return { kind: "and", filters: kind.value.queries.map(toUserFilter) };
    case "notQuery":
      if (!kind.value.query) throw invalidQuery();
      return { kind: "not", filter: toUserFilter(kind.value.query) };
    default:
      throw invalidQuery();
  }
}

/** A query and every query nested in it. */
function queryCount(query: SearchQuery): number {
  const { query: kind } = query;
  switch (kind.case) {
    case "orQuery":
    case "andQuery":
      return 1 + kind.value.queries.reduce((count, nested) => count + queryCount(nested), 0);
    case "notQuery":
      return 1 + (kind.value.query ? queryCount(kind.value.query) : 0);
    default:
      return 1;
  }
}

/** The values of the text queries in a filter and every filter nested in it. */
function textValues(filter: UserFilter): string[] {
  switch (filter.kind) {
    case "username":
      return [filter.username];
    case "email":
      return [filter.email];
    case "phone":
      return [filter.phone];
    case "and":
    case "or":
      return filter.filters.flatMap(textValues);
    case "not":
      return textValues(filter.filter);
    default:
      return [];
  }
}

function invalidQuery(): ConnectError {
  return new ConnectError("every query in queries, and in or, and and not queries, must set one kind", Code.InvalidArgument);
}

/**
 * The last expiry a token may have: the last second proto3 JSON can write (RFC 3339's years have four digits). A later
 * one would be stored (SQLite) or refused by the driver (PostgreSQL), and then fail every JSON answer listing it.
 */
const latestExpiry = new Date("9999-12-31T23:59:59Z");

function matchesTokenFilter(filter: PersonalAccessTokensSearchFilter, token: AccessTokenRecord, organizationId: string): boolean {
  const { filter: kind } = filter;
  switch (kind.case) {
    case "tokenIdFilter":
      return token.id === kind.value.id;
    case "userIdFilter":
      return token.userId === kind.value.id;
    case "organizationIdFilter":
      return organizationId === kind.value.id;
    case "createdDateFilter":
      return matchesTimestampFilter(token.createdAt, kind.value);
    case "expirationDateFilter":
      return matchesTimestampFilter(token.expiresAt, kind.value);
    default:
      return true;
  }
}

/**
 * A new password ends the login tokens the old one gave out, which might be a thief's (OWASP ASVS V3.3): all of them
 * when someone else set it, all but the caller's own when the user changed it. Personal access tokens stay: only
 * service accounts have them, and they are managed one by one.
 */
async function endLoginsAfterPasswordChange(
  deps: UserAccountsDeps,
  ctx: Parameters<AccountMethods["setPassword"]>[1],
  userId: string,
  organizationId: string,
): Promise<void> {
  const caller = callerOf(ctx);
  const ended = await deps.tokens.removeLogins(userId, caller.userId === userId ? caller.tokenId : undefined);
  if (ended === 0) return;
  await recordChangeOfUser(deps, ctx, "token.removed", { userId, organizationId }, {
    kind: "login",
    count: String(ended),
    cause: "password.changed",
  });
}

/** Records in the security log what the caller did to a user, under the call's request id. */
function recordChangeOfUser(
  deps: Pick<UserAccountsDeps, "recordSecurityEvent">,
  ctx: HandlerContext,
  kind: SecurityEventKind,
  target: { userId: string; organizationId: string },
  detail: Record<string, string> = {},
): Promise<void> {
  return deps.recordSecurityEvent({ kind, actorId: callerOf(ctx).userId, ...target, detail }, requestIdIn(ctx.values));
}

/**
 * Whom the caller may list: the users of the organizations where it may read users, and itself, named apart only when
 * its own organization is not one of them: a condition on the organizations alone lets the database read a page in
 * the order of users_by_organization_and_creation instead of sorting every user of the organization.
 */
function readableUsers(caller: Principal): ReadableUsers {
  const organizations = organizationsWith(caller, "user.read");
  if (organizations === "all") return {};
  return organizations.includes(caller.organizationId) ? { organizations } : { organizations, self: caller.userId };
}
