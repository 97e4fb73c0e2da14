// The expected answer of every RPC to every kind of caller, written down independently of the server's own rule
// table so that a wrong rule fails the matrix test. The README's access table is printed from this
// (`npx tsx scripts/permission-table.ts`), and a test checks that it still is.
import { Code } from "@connectrpc/connect";

/** Who calls, relative to the target: a user of organization "target" (or that organization itself). */
export const callers = [
  "no token",
  "bad token",
  "removed token",
  "expired token",
  "disabled user",
  "the user themself",
  "ORG_USER_VIEWER",
  "ORG_USER_MANAGER",
  "owner of another org",
  "IAM_OWNER",
] as const;
export type Caller = (typeof callers)[number];

/** Each RPC (and variant) the matrix calls, on a fresh target each time. */
export const calls = [
  "GetUserByID",
  "ListUsers",
  "AddHumanUser",
  "CreateUser (machine)",
  "SetPhone send_code",
  "SetPhone return_code",
  "SetPhone is_verified",
  "ResendPhoneCode send_code",
  "ResendPhoneCode return_code",
  "VerifyPhone",
  "RemovePhone",
  "SetEmail send_code",
  "SetEmail return_code",
  "SetEmail send_code url_template",
  "ResendEmailCode send_code",
  "SendEmailCode send_code url_template",
  "SendEmailCode return_code",
  "VerifyEmail",
  "SetPassword",
  "DeleteUser",
  "DeactivateUser",
  "ReactivateUser",
  "LockUser",
  "UnlockUser",
  "AddPersonalAccessToken",
  "ListPersonalAccessTokens",
  "RemovePersonalAccessToken",
  "AddOrganization",
  "ListOrganizations",
  "CreateAdministrator",
  "ListAdministrators",
  "GetVerificationSettings",
  "SetVerificationSettings",
  "ListSecurityEvents",
  "CreateApplication",
  "ListApplications",
  "DeleteApplication",
] as const;
export type Call = (typeof calls)[number];

export type Outcome = Code | "ok";

const unauthenticated: Record<Extract<Caller, `${string}token` | "disabled user">, Outcome> = {
  "no token": Code.Unauthenticated,
  "bad token": Code.Unauthenticated,
  "removed token": Code.Unauthenticated,
  "expired token": Code.Unauthenticated,
  "disabled user": Code.Unauthenticated,
};

type Authenticated = Exclude<Caller, keyof typeof unauthenticated>;
const { NotFound: hidden, PermissionDenied: denied } = Code;

// self, viewer, manager, owner of another org, IAM_OWNER
const row = (self: Outcome, viewer: Outcome, manager: Outcome, otherOwner: Outcome, iamOwner: Outcome) =>
  ({
    ...unauthenticated,
    "the user themself": self,
    ORG_USER_VIEWER: viewer,
    ORG_USER_MANAGER: manager,
    "owner of another org": otherOwner,
    IAM_OWNER: iamOwner,
  }) satisfies Record<Caller, Outcome> & Record<Authenticated, Outcome>;

/** Reading: self or user.read. Changing with a code sent to the contact: self or user.write. */
const readable = row("ok", "ok", "ok", hidden, "ok");
const selfOrWrite = row("ok", denied, "ok", hidden, "ok");
/** Codes returned to the caller, contacts marked verified, lifecycle: user.write only, never oneself alone. */
const writeOnly = row(denied, denied, "ok", hidden, "ok");
/** Credentials of service accounts: ORG_OWNER or IAM_OWNER. */
const credentials = row(denied, denied, denied, hidden, "ok");
/** Everyone signed in gets an answer, limited to what they may see. */
const listing = row("ok", "ok", "ok", "ok", "ok");

export const expected: Record<Call, Record<Caller, Outcome>> = {
  GetUserByID: readable,
  ListUsers: listing,
  // Into the target's organization: a caller with no role there is told it does not exist.
  AddHumanUser: row(hidden, denied, "ok", hidden, "ok"),
  "CreateUser (machine)": row(hidden, denied, "ok", hidden, "ok"),
  "SetPhone send_code": selfOrWrite,
  "SetPhone return_code": writeOnly,
  "SetPhone is_verified": writeOnly,
  "ResendPhoneCode send_code": selfOrWrite,
  "ResendPhoneCode return_code": writeOnly,
  VerifyPhone: selfOrWrite,
  RemovePhone: selfOrWrite,
  "SetEmail send_code": selfOrWrite,
  "SetEmail return_code": writeOnly,
  "SetEmail send_code url_template": writeOnly,
  "SendEmailCode send_code url_template": writeOnly,
  "ResendEmailCode send_code": selfOrWrite,
  "SendEmailCode return_code": writeOnly,
  VerifyEmail: selfOrWrite,
  SetPassword: selfOrWrite,
  // As in ZITADEL, a user may delete themself; anyone else needs user.delete, which a viewer lacks.
  DeleteUser: selfOrWrite,
  DeactivateUser: writeOnly,
  ReactivateUser: writeOnly,
  LockUser: writeOnly,
  UnlockUser: writeOnly,
  AddPersonalAccessToken: credentials,
  ListPersonalAccessTokens: credentials,
  RemovePersonalAccessToken: credentials,
  // Creating organizations is the instance's business; there is nothing to hide.
  AddOrganization: row(denied, denied, denied, denied, "ok"),
  ListOrganizations: listing,
  // Administrators of the target's organization: its ORG_OWNER or an IAM_OWNER.
  CreateAdministrator: row(hidden, denied, denied, hidden, "ok"),
  ListAdministrators: row(hidden, denied, denied, hidden, "ok"),
  // The target's organization: its members read the settings; its ORG_OWNER or an IAM_OWNER sets them.
  GetVerificationSettings: row(hidden, "ok", "ok", hidden, "ok"),
  SetVerificationSettings: row(hidden, denied, denied, hidden, "ok"),
  // The security log covers every organization: the instance's business alone, and nothing to hide.
  ListSecurityEvents: row(denied, denied, denied, denied, "ok"),
  // The target's Kii applications, whose keys act for its users: its ORG_OWNER or an IAM_OWNER. To a non-member an
  // application it names does not exist, like its organization.
  CreateApplication: row(hidden, denied, denied, hidden, "ok"),
  ListApplications: row(hidden, denied, denied, hidden, "ok"),
  DeleteApplication: row(hidden, denied, denied, hidden, "ok"),
};
