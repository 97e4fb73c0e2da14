// InternalPermissionService: administrators, i.e. roles on the instance or on an organization, granted and revoked
// by those who hold member.write there.
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { userAccessError } from "../domain/access/access-decisions.js";
import { type MemberStore, instanceResource } from "../domain/access/member.js";
import { hasPermission, isInstanceOwner, organizationRoles } from "../domain/access/permissions.js";
import type { Principal, Role } from "../domain/access/principal.js";
import { errors } from "../domain/errors.js";
import type { Clock, OrganizationStore, UserStore } from "../domain/ports.js";
import type { UserState } from "../domain/user-state.js";
import { AdministratorFieldName } from "../gen/zitadel/internal_permission/v2beta/query_pb.js";
import type {
  InternalPermissionService,
  ResourceType,
} from "../gen/zitadel/internal_permission/v2beta/internal_permission_service_pb.js";
import { type AdministratorView, resourceOrganization, toAdministratorPredicate } from "./administrator-filter.js";
import { authorizeAdministrators, callerOf } from "./authorization.js";
import { keepAnotherActiveInstanceOwner } from "./instance-owners.js";
import { toPage } from "./list-mapping.js";
import type { SecurityRecorder } from "./security-recorder.js";
import { requestIdIn } from "./request-context.js";

export interface InternalPermissionServiceDeps {
  members: MemberStore;
  users: Pick<UserStore, "load">;
  organizations: Pick<OrganizationStore, "find">;
  clock: Clock;
  recordSecurityEvent: SecurityRecorder;
}

export function createInternalPermissionServiceHandler(
  deps: InternalPermissionServiceDeps,
): ServiceImpl<typeof InternalPermissionService> {
  /** The user an administrator is made of: it must exist, and the caller must be allowed to know it does. */
  const visibleUser = async (ctx: HandlerContext, userId: string): Promise<UserState> => {
    const user = await deps.users.load(userId);
    if (!user) throw errors.userNotFound();
    const hidden = userAccessError(callerOf(ctx), { userId, organizationId: user.resourceOwner }, "user.read", true);
    if (hidden) throw hidden;
    return user;
  };

  /** `roles`: what the user holds on the resource now. */
  const rolesChanged = (
    ctx: HandlerContext,
    change: "created" | "updated" | "deleted",
    userId: string,
    organizationId: string,
    roles: readonly Role[],
  ) =>
    deps.recordSecurityEvent({
      kind: "roles.changed",
      actorId: callerOf(ctx).userId,
      userId,
      ...(organizationId === instanceResource ? {} : { organizationId }),
      detail: { change, organizationId, roles: roles.join(",") },
    }, requestIdIn(ctx.values));

  /** Revoking or narrowing an IAM_OWNER's role on the instance must leave another one who can act. */
  const keepAnInstanceOwner = async (userId: string, organizationId: string, roles: readonly Role[] = []) => {
    if (organizationId !== instanceResource || roles.includes("IAM_OWNER")) return;
    await keepAnotherActiveInstanceOwner(deps, userId);
  };

  return {
    async createAdministrator(req, ctx) {
      const organizationId = resourceOf(req.resource);
      const roles = checkedRoles(req.roles, organizationId);
      authorizeAdministrators(ctx, organizationOrInstance(organizationId), roles);
      // An IAM_OWNER is a member of every organization, even one that does not exist: nothing else checks it.
      if (organizationId !== instanceResource && !(await deps.organizations.find(organizationId))) {
        throw errors.organizationNotFound();
      }
      await visibleUser(ctx, req.userId);
      const at = deps.clock.now();
      await deps.members.add({ userId: req.userId, organizationId, roles, createdAt: at, changedAt: at });
      await rolesChanged(ctx, "created", req.userId, organizationId, roles);
      return { creationDate: timestampFromDate(at) };
    },

    async updateAdministrator(req, ctx) {
      const organizationId = resourceOf(req.resource);
      const roles = checkedRoles(req.roles, organizationId);
      authorizeAdministrators(ctx, organizationOrInstance(organizationId), roles);
      await keepAnInstanceOwner(req.userId, organizationId, roles);
      const at = deps.clock.now();
      if (!(await deps.members.update(req.userId, organizationId, roles, at))) throw errors.administratorNotFound();
      await rolesChanged(ctx, "updated", req.userId, organizationId, roles);
      return { changeDate: timestampFromDate(at) };
    },

    async deleteAdministrator(req, ctx) {
      const organizationId = resourceOf(req.resource);
      authorizeAdministrators(ctx, organizationOrInstance(organizationId));
      await keepAnInstanceOwner(req.userId, organizationId);
      if (!(await deps.members.remove(req.userId, organizationId))) throw errors.administratorNotFound();
      await rolesChanged(ctx, "deleted", req.userId, organizationId, []);
      return { deletionDate: timestampFromDate(deps.clock.now()) };
    },

    async listAdministrators(req, ctx) {
      const caller = callerOf(ctx);
      // A filter naming a resource asks about it: a caller without member.read there is refused, not shown nothing.
      for (const filter of req.filters) {
        if (filter.filter.case === "resource") {
          authorizeAdministrators(ctx, organizationOrInstance(resourceOrganization(filter.filter.value.resource)));
        }
      }
      const predicates = req.filters.map(toAdministratorPredicate);
      const members = await deps.members.list(readableResources(caller));
      const views: AdministratorView[] = [];
      for (const member of members) {
        const user = await deps.users.load(member.userId);
        if (!user) continue;
        const view = { member, user: userOf(user) };
        if (predicates.every((predicate) => predicate(view))) views.push(view);
      }
      const page = toPage(req.pagination);
      const sorted = views.sort(byColumn(req.sortingColumn ?? AdministratorFieldName.UNSPECIFIED, page.ascending));
      return {
        pagination: { totalResult: BigInt(views.length), appliedLimit: BigInt(page.limit) },
        administrators: sorted.slice(page.offset, page.offset + page.limit).map(({ member, user }) => ({
          creationDate: timestampFromDate(member.createdAt),
          changeDate: timestampFromDate(member.changedAt),
          user: { id: user.id, preferredLoginName: user.username, displayName: user.displayName, organizationId: user.organizationId },
          resource:
            member.organizationId === instanceResource
              ? { case: "instance", value: true }
              : { case: "organization", value: { id: member.organizationId, name: "" } },
          roles: member.roles,
        })),
      };
    },
  };
}

/** Validation requires a resource; project resources are refused as unsupported before the handler runs. */
function resourceOf(resource: ResourceType | undefined): string {
  if (!resource) throw new Error("an administrator request without its resource reached the handler");
  return resourceOrganization(resource.resource);
}

function organizationOrInstance(organizationId: string): string | undefined {
  return organizationId === instanceResource ? undefined : organizationId;
}

/** IAM_OWNER exists on the instance only; the organization roles on organizations only. */
function checkedRoles(roles: readonly string[], organizationId: string): Role[] {
  const allowed: readonly string[] = organizationId === instanceResource ? ["IAM_OWNER"] : organizationRoles;
  for (const role of roles) if (!allowed.includes(role)) throw errors.roleInvalid(role);
  return roles as Role[];
}

/** Whose administrators a caller may see: every resource for an IAM_OWNER, else organizations with member.read. */
function readableResources(caller: Principal): readonly string[] | undefined {
  if (isInstanceOwner(caller)) return undefined;
  return [...caller.organizationRoles.keys()].filter((id) => hasPermission(caller, "member.read", id));
}

function userOf(user: UserState): AdministratorView["user"] {
  return { id: user.id, username: user.username, displayName: displayNameOf(user), organizationId: user.resourceOwner };
}

function displayNameOf(user: UserState): string {
  if (user.kind === "machine") return user.name;
  const { profile } = user;
  return profile.displayName || [profile.givenName, profile.familyName].filter(Boolean).join(" ");
}

function byColumn(column: AdministratorFieldName, ascending: boolean) {
  const key = (view: AdministratorView): string | number => {
    switch (column) {
      case AdministratorFieldName.USER_ID:
        return view.user.id;
      case AdministratorFieldName.CHANGE_DATE:
        return view.member.changedAt.getTime();
      default:
        return view.member.createdAt.getTime();
    }
  };
  return (a: AdministratorView, b: AdministratorView) => {
    const [x, y] = [key(a), key(b)];
    const order = x < y ? -1 : x > y ? 1 : 0;
    return ascending ? order : -order;
  };
}
