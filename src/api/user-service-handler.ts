// The UserService RPCs, mapped onto the domain's commands. Validation, unsupported fields and error conversion happen
// in interceptors around these functions, the same way for every protocol; who may call what is decided here, by the
// rules in access-rules.ts, since it depends on the target user's organization.
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import { type Channel, type DomainError, errors } from "../domain/errors.js";
import type { Actor } from "../domain/user-commands.js";
import type { UserService } from "../gen/zitadel/user/v2/user_service_pb.js";
import type { RequestFacts } from "./access-rules.js";
import { authorizeInOrganization, callerOf } from "./authorization.js";
import {
  toCodeRequest,
  toCodeResponse,
  toDetails,
  toNewContact,
  toNewPassword,
  toProfile,
  toReadDetails,
  toUser,
  toVerification,
  type WireVerification,
} from "./proto-mapping.js";
import { requestHeaderOf } from "./request-context.js";
import { failedCallOf, securityOutcomesOf } from "./security-outcomes.js";
import { authorizedUser as authorizedUserOf } from "./target-user.js";
import { type UserAccountsDeps, createUserAccountsHandler } from "./user-accounts-handler.js";

/** The header by which a ZITADEL caller names the organization it acts in, when a request does not name one. */
const organizationHeader = "x-zitadel-orgid";

export function createUserServiceHandler(deps: UserAccountsDeps): ServiceImpl<typeof UserService> {
  const { commands } = deps;
  const authorizedUser = (ctx: HandlerContext, userId: string, facts?: RequestFacts) =>
    authorizedUserOf(deps, ctx, userId, facts);
  const contactUser = (channel: Channel, ctx: HandlerContext, userId: string, facts?: RequestFacts) =>
    authorizedUserOf(deps, ctx, userId, facts, unknownUserOf[channel]);

  const newCode =
    (channel: Channel) =>
    async (req: { userId: string; verification: WireVerification }, ctx: HandlerContext) => {
      await contactUser(channel, ctx, req.userId, codeFacts(req.verification));
      return toCodeResponse(await commands.issueNewCode(req.userId, channel, toCodeRequest(req.verification), actorOf(ctx)));
    };

  return {
    ...createUserAccountsHandler(deps),

    async addHumanUser(req, ctx) {
      // As ZITADEL picks it: the request's organization, else the header's, else the caller's own.
      const orgId =
        (req.organization?.org.case === "orgId" ? req.organization.org.value : undefined) ||
        requestHeaderOf(ctx, organizationHeader) ||
        callerOf(ctx).organizationId;
      const caller = authorizeInOrganization(ctx, orgId, req.userId);
      // Validation guarantees a profile; ZITADEL treats an empty phone as no phone.
      const profile = req.profile ? toProfile(req.profile) : { givenName: "", familyName: "" };
      const password = toNewPassword(req.passwordType);
      // The fields every call has first: a literal that starts by spreading a set field was 0.45 µs slower for each
      // field after it (README, performance, step 41).
      const result = await commands.addHumanUser({
        organizationId: orgId,
        profile,
        ...(req.userId === undefined ? {} : { userId: req.userId }),
        ...(req.username === undefined ? {} : { username: req.username }),
        ...(req.email ? { email: toNewContact(req.email.email, req.email.verification) } : {}),
        ...(req.phone?.phone ? { phone: toNewContact(req.phone.phone, req.phone.verification) } : {}),
        ...(password ? { password } : {}),
      }, { callerId: caller.userId });
      return { ...result, details: toDetails(result.details) };
    },

    async getUserByID(req, ctx) {
      const state = await authorizedUser(ctx, req.userId);
      return { details: toReadDetails(state), user: toUser(state) };
    },

    async setPhone(req, ctx) {
      await contactUser("phone", ctx, req.userId, codeFacts(req.verification));
      return toCodeResponse(
        await commands.setContact(req.userId, "phone", toNewContact(req.phone, req.verification), actorOf(ctx)),
      );
    },

    resendPhoneCode: newCode("phone"),

    async verifyPhone(req, ctx) {
      const state = await contactUser("phone", ctx, req.userId);
      return { details: toDetails(await commands.verify(req.userId, "phone", req.verificationCode, verifierOf(ctx, req.userId), state)) };
    },

    async removePhone(req, ctx) {
      await contactUser("phone", ctx, req.userId);
      return { details: toDetails(await commands.removeContact(req.userId, "phone")) };
    },

    async setEmail(req, ctx) {
      await contactUser("email", ctx, req.userId, codeFacts(req.verification));
      return toCodeResponse(
        await commands.setContact(req.userId, "email", toNewContact(req.email, req.verification), actorOf(ctx)),
      );
    },

    resendEmailCode: newCode("email"),

    // Every pending address already has a code, so "send" a code is the same as a fresh one.
    sendEmailCode: newCode("email"),

    async verifyEmail(req, ctx) {
      const state = await contactUser("email", ctx, req.userId);
      return { details: toDetails(await commands.verify(req.userId, "email", req.verificationCode, verifierOf(ctx, req.userId), state)) };
    },
  };
}

/**
 * What a phone or email call answers for a user that does not exist or that the caller may not see: ZITADEL's NotFound
 * "Phone not found", so that its clients meet the message they know, with our reason.
 */
const unknownUserOf: Record<Channel, () => DomainError> = {
  phone: () => errors.contactOfUnknownUser("phone"),
  email: () => errors.contactOfUnknownUser("email"),
};

/** The caller, as the limits count it. */
function actorOf(ctx: HandlerContext): Actor {
  return { callerId: callerOf(ctx).userId };
}

/**
 * The caller submitting a code, and what the security log records if the code is wrong (security-outcomes.ts). Built
 * field by field rather than as `{ ...actorOf(ctx), securityOutcomesOf }`: see README, performance, step 41.
 */
function verifierOf(ctx: HandlerContext, userId: string): Actor {
  return {
    callerId: callerOf(ctx).userId,
    securityOutcomesOf: (refusal) => securityOutcomesOf(refusal, failedCallOf(ctx.service, ctx.method, ctx.values, { userId })),
  };
}

function codeFacts(verification: WireVerification): RequestFacts {
  const chosen = toVerification(verification);
  return {
    codeReturnedOrPreset: chosen.kind === "return" || chosen.kind === "verified",
    linkChosen: chosen.kind === "send" && chosen.urlTemplate !== undefined,
  };
}
