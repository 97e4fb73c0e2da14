// The UserService RPCs, mapped onto the domain. Validation, unsupported fields and error conversion happen in
// interceptors before and after these functions, the same way for every protocol.
import type { ServiceImpl } from "@connectrpc/connect";
import type { UserService as Domain } from "../domain/user-service.js";
import type { UserService } from "../gen/zitadel/user/v2/user_service_pb.js";
import { toCodeRequest, toCodeResponse, toDetails, toProfile, toReadDetails, toUser, toVerification } from "./proto-mapping.js";

export function createUserServiceHandler(domain: Domain): ServiceImpl<typeof UserService> {
  return {
    async addHumanUser(req) {
      const orgId = req.organization?.org.case === "orgId" ? req.organization.org.value : undefined;
      const result = await domain.addHumanUser({
        ...(req.userId === undefined ? {} : { userId: req.userId }),
        ...(req.username === undefined ? {} : { username: req.username }),
        ...(orgId === undefined ? {} : { organizationId: orgId }),
        // Validation guarantees the profile; the fallback only satisfies the type.
        profile: toProfile(req.profile ?? { givenName: "", familyName: "", $typeName: "zitadel.user.v2.SetHumanProfile" }),
        ...(req.email ? { email: { value: req.email.email, verification: toVerification(req.email.verification) } } : {}),
        ...(req.phone?.phone
          ? { phone: { value: req.phone.phone, verification: toVerification(req.phone.verification) } }
          : {}),
      });
      return {
        userId: result.userId,
        details: toDetails(result.details),
        ...(result.emailCode === undefined ? {} : { emailCode: result.emailCode }),
        ...(result.phoneCode === undefined ? {} : { phoneCode: result.phoneCode }),
      };
    },

    async getUserByID(req) {
      const state = await domain.getUser(req.userId);
      return { details: toReadDetails(state), user: toUser(state) };
    },

    async setPhone(req) {
      return toCodeResponse(await domain.setContact(req.userId, "phone", req.phone, toVerification(req.verification)));
    },

    async resendPhoneCode(req) {
      return toCodeResponse(await domain.issueNewCode(req.userId, "phone", toCodeRequest(req.verification)));
    },

    async verifyPhone(req) {
      return { details: toDetails(await domain.verify(req.userId, "phone", req.verificationCode)) };
    },

    async removePhone(req) {
      return { details: toDetails(await domain.removeContact(req.userId, "phone")) };
    },

    async setEmail(req) {
      return toCodeResponse(await domain.setContact(req.userId, "email", req.email, toVerification(req.verification)));
    },

    async resendEmailCode(req) {
      return toCodeResponse(await domain.issueNewCode(req.userId, "email", toCodeRequest(req.verification)));
    },

    async sendEmailCode(req) {
      return toCodeResponse(await domain.issueNewCode(req.userId, "email", toCodeRequest(req.verification)));
    },

    async verifyEmail(req) {
      return { details: toDetails(await domain.verify(req.userId, "email", req.verificationCode)) };
    },
  };
}
