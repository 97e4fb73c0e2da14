// The UserService RPCs, mapped onto the domain's commands. Validation, unsupported fields and error conversion happen
// in interceptors around these functions, the same way for every protocol.
import type { ServiceImpl } from "@connectrpc/connect";
import type { Channel } from "../domain/errors.js";
import type { UserCommands } from "../domain/user-commands.js";
import type { UserService } from "../gen/zitadel/user/v2/user_service_pb.js";
import {
  toCodeRequest,
  toCodeResponse,
  toDetails,
  toNewContact,
  toProfile,
  toReadDetails,
  toUser,
  type WireVerification,
} from "./proto-mapping.js";

export function createUserServiceHandler(commands: UserCommands): ServiceImpl<typeof UserService> {
  const newCode = (channel: Channel) => async (req: { userId: string; verification: WireVerification }) =>
    toCodeResponse(await commands.issueNewCode(req.userId, channel, toCodeRequest(req.verification)));

  return {
    async addHumanUser(req) {
      const orgId = req.organization?.org.case === "orgId" ? req.organization.org.value : undefined;
      // Validation guarantees a profile; ZITADEL treats an empty phone as no phone.
      const profile = req.profile ? toProfile(req.profile) : { givenName: "", familyName: "" };
      const result = await commands.addHumanUser({
        ...(req.userId === undefined ? {} : { userId: req.userId }),
        ...(req.username === undefined ? {} : { username: req.username }),
        ...(orgId === undefined ? {} : { organizationId: orgId }),
        profile,
        ...(req.email ? { email: toNewContact(req.email.email, req.email.verification) } : {}),
        ...(req.phone?.phone ? { phone: toNewContact(req.phone.phone, req.phone.verification) } : {}),
      });
      return { ...result, details: toDetails(result.details) };
    },

    async getUserByID(req) {
      const state = await commands.getUser(req.userId);
      return { details: toReadDetails(state), user: toUser(state) };
    },

    async setPhone(req) {
      return toCodeResponse(await commands.setContact(req.userId, "phone", toNewContact(req.phone, req.verification)));
    },

    resendPhoneCode: newCode("phone"),

    async verifyPhone(req) {
      return { details: toDetails(await commands.verify(req.userId, "phone", req.verificationCode)) };
    },

    async removePhone(req) {
      return { details: toDetails(await commands.removeContact(req.userId, "phone")) };
    },

    async setEmail(req) {
      return toCodeResponse(await commands.setContact(req.userId, "email", toNewContact(req.email, req.verification)));
    },

    resendEmailCode: newCode("email"),

    // Every pending address already has a code, so "send" a code is the same as a fresh one.
    sendEmailCode: newCode("email"),

    async verifyEmail(req) {
      return { details: toDetails(await commands.verify(req.userId, "email", req.verificationCode)) };
    },
  };
}
