// Roles, permissions and the decisions built on them, without a server; and the rule table against the services.
import { describe, expect, it } from "vitest";
import { accessRuleOf, accessRules, selfSuffices } from "../../src/api/access-rules.js";
import {
  administratorAccessError,
  memberOrganizations,
  mayReadUser,
  organizationAccessError,
  organizationsWith,
  serviceAccountTokenAccessError,
  takeoverError,
  userAccessError,
} from "../../src/domain/access/access-decisions.js";
import { grantsFrom } from "../../src/domain/access/member.js";
import { hasPermission, isMember } from "../../src/domain/access/permissions.js";
import type { Principal, Role } from "../../src/domain/access/principal.js";
import { errors } from "../../src/domain/errors.js";
import { Health } from "../../src/gen/grpc/health/v1/health_pb.js";
import { ApplicationService } from "../../src/gen/verifyd/apps/v1/application_service_pb.js";
import { SecurityLogService } from "../../src/gen/verifyd/security/v1/security_log_service_pb.js";
import { VerificationSettingsService } from "../../src/gen/verifyd/settings/v1/verification_settings_service_pb.js";
import { UserService } from "../../src/gen/zitadel/user/v2/user_service_pb.js";

const principal = (roles: Record<string, Role[]>, userId = "caller"): Principal => ({
  userId,
  organizationId: "home",
  ...grantsFrom(Object.entries(roles).map(([organizationId, granted]) => ({ organizationId, roles: granted }))),
});

const iamOwner = principal({ "": ["IAM_OWNER"] });
const viewer = principal({ org: ["ORG_USER_VIEWER"] });
const manager = principal({ org: ["ORG_USER_MANAGER"] });
const owner = principal({ org: ["ORG_OWNER"] });
const stranger = principal({ other: ["ORG_OWNER"] });
const target = { userId: "target", organizationId: "org" };

describe("permissions", () => {
  it("gives each role its permissions on its organization only", () => {
    expect(hasPermission(viewer, "user.read", "org")).toBe(true);
    expect(hasPermission(viewer, "user.write", "org")).toBe(false);
    expect(hasPermission(manager, "user.write", "org")).toBe(true);
    expect(hasPermission(manager, "member.write", "org")).toBe(false);
    expect(hasPermission(owner, "user.credential.write", "org")).toBe(true);
    expect(hasPermission(owner, "user.read", "other")).toBe(false);
    expect(hasPermission(owner, "org.create")).toBe(false);
    expect(hasPermission(iamOwner, "org.create")).toBe(true);
    expect(hasPermission(iamOwner, "member.write", "anything")).toBe(true);
    expect(hasPermission(owner, "org.settings.write", "org")).toBe(true);
    expect(hasPermission(manager, "org.settings.write", "org")).toBe(false);
    expect(hasPermission(owner, "app.write", "org")).toBe(true);
    expect(hasPermission(owner, "app.read", "org")).toBe(true);
    expect(hasPermission(manager, "app.read", "org")).toBe(false);
    expect(hasPermission(viewer, "app.read", "org")).toBe(false);
  });

  it("counts any role, or IAM_OWNER, as membership", () => {
    expect(isMember(viewer, "org")).toBe(true);
    expect(isMember(viewer, "other")).toBe(false);
    expect(isMember(iamOwner, "other")).toBe(true);
    expect(isMember(principal({ org: [] }), "org")).toBe(false);
  });
});

describe("acting on a user", () => {
  it("hides the user from non-members with exactly the missing user's error", () => {
    expect(userAccessError(stranger, target, "user.read", true)).toEqual(errors.userNotFound());
    expect(userAccessError(principal({}), target, "user.write", false)).toEqual(errors.userNotFound());
  });

  it("answers a member without the permission PermissionDenied naming it", () => {
    expect(userAccessError(viewer, target, "user.write", false)).toEqual(errors.permissionDenied("user.write"));
    expect(userAccessError(viewer, target, "user.read", false)).toBeUndefined();
    expect(userAccessError(manager, target, "user.write", false)).toBeUndefined();
    expect(userAccessError(iamOwner, target, "user.write", false)).toBeUndefined();
  });

  it("lets the user act on itself where self suffices, and says PermissionDenied where it does not", () => {
    const self = principal({}, "target");
    expect(userAccessError(self, target, "user.write", true)).toBeUndefined();
    expect(userAccessError(self, target, "user.write", false)).toEqual(errors.permissionDenied("user.write"));
  });

  it("needs user.write for a returned or preset code even for oneself", () => {
    expect(selfSuffices("unless-code-returned-preset-or-linked", {})).toBe(true);
    expect(selfSuffices("unless-code-returned-preset-or-linked", { codeReturnedOrPreset: true })).toBe(false);
    expect(selfSuffices("unless-code-returned-preset-or-linked", { linkChosen: true })).toBe(false);
    expect(selfSuffices("with-current-password", {})).toBe(false);
    expect(selfSuffices("with-current-password", { currentPasswordGiven: true })).toBe(true);
    expect(selfSuffices("never", {})).toBe(false);
  });
});

describe("organizations, listings, tokens and administrators", () => {
  it("tells a non-member creating a user that the organization does not exist", () => {
    expect(organizationAccessError(stranger, "org", "user.write")).toEqual(errors.organizationNotFound());
    expect(organizationAccessError(viewer, "org", "user.write")).toEqual(errors.permissionDenied("user.write"));
    expect(organizationAccessError(manager, "org", "user.write")).toBeUndefined();
  });

  it("hides an application of an organization from a non-member as a missing application", () => {
    expect(organizationAccessError(stranger, "org", "app.write", errors.applicationNotFound)).toEqual(errors.applicationNotFound());
    expect(organizationAccessError(manager, "org", "app.write", errors.applicationNotFound)).toEqual(errors.permissionDenied("app.write"));
    expect(organizationAccessError(owner, "org", "app.write", errors.applicationNotFound)).toBeUndefined();
  });

  it("lists only what the caller may see", () => {
    expect(organizationsWith(viewer, "user.read")).toEqual(["org"]);
    expect(organizationsWith(iamOwner, "user.read")).toBe("all");
    expect(memberOrganizations(stranger)).toEqual(["other"]);
    expect(mayReadUser(stranger, target)).toBe(false);
    expect(mayReadUser(principal({}, "target"), target)).toBe(true);
  });

  it("lets a caller make tokens only for service accounts whose every role it could grant; IAM_OWNER alone grants IAM_OWNER", () => {
    const none = { instanceRoles: [], organizationRoles: new Map() };
    const instanceOwner = { instanceRoles: ["IAM_OWNER" as const], organizationRoles: new Map() };
    const ownerElsewhere = { instanceRoles: [], organizationRoles: new Map([["other", ["ORG_OWNER" as const]]]) };
    const viewerHere = { instanceRoles: [], organizationRoles: new Map([["org", ["ORG_USER_VIEWER" as const]]]) };
    expect(serviceAccountTokenAccessError(owner, target, none)).toBeUndefined();
    expect(serviceAccountTokenAccessError(owner, target, viewerHere)).toBeUndefined();
    expect(serviceAccountTokenAccessError(owner, target, instanceOwner)).toEqual(errors.permissionDenied("member.write"));
    expect(serviceAccountTokenAccessError(owner, target, ownerElsewhere)).toEqual(errors.permissionDenied("member.write"));
    expect(serviceAccountTokenAccessError(manager, target, none)).toEqual(errors.permissionDenied("user.credential.write"));
    expect(serviceAccountTokenAccessError(iamOwner, target, instanceOwner)).toBeUndefined();
    expect(takeoverError(manager, viewerHere)).toEqual(errors.permissionDenied("member.write"));
    expect(takeoverError(manager, none)).toBeUndefined();
    expect(administratorAccessError(owner, "org", "member.write", ["ORG_USER_VIEWER"])).toBeUndefined();
    expect(administratorAccessError(owner, "org", "member.write", ["IAM_OWNER"])).toEqual(errors.permissionDenied("member.write"));
    expect(administratorAccessError(owner, undefined, "member.read")).toEqual(errors.permissionDenied("member.read"));
    expect(administratorAccessError(stranger, "org", "member.read")).toEqual(errors.organizationNotFound());
  });
});

describe("the rule table", () => {
  it("has a row for every RPC the server serves", () => {
    for (const service of [UserService, VerificationSettingsService, SecurityLogService, ApplicationService, Health]) {
      for (const method of service.methods) {
        expect(accessRuleOf(service.name, method.name), `${service.name}/${method.name}`).toBeDefined();
      }
    }
  });

  it("opens nothing but health", () => {
    const open = Object.entries(accessRules).filter(([, rule]) => rule.on === "public").map(([rpc]) => rpc);
    expect(open).toEqual(["Health/Check", "Health/Watch"]);
  });
});
