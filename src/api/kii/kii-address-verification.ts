// A user's phone number or email address through Kii's paths: verify it with its code (VerifyPhone / VerifyEmail),
// have a fresh code sent (ResendPhoneCode / ResendEmailCode with send_code), or, with user.write, have a fresh code
// returned instead (ResendPhoneCode with return_code: Kii's reset-verification-code, for administrators).
import type { Channel } from "../../domain/errors.js";
import type { UserCommands } from "../../domain/user-commands.js";
import type { KiiUserOperation } from "./kii-access.js";
import { type KiiCallDeps, runKiiCall } from "./kii-call.js";
import type { KiiCaller } from "./kii-caller.js";
import type { KiiErrorContext } from "./kii-error-mapping.js";
import { type KiiBody, readKiiFields, requiredField } from "./kii-request-fields.js";
import { type KiiTargetUserDeps, type KiiUserRef, authorizedKiiUser, userIdOf } from "./kii-target-user.js";

export interface KiiAddressVerificationDeps extends KiiTargetUserDeps, KiiCallDeps {
  commands: KiiTargetUserDeps["commands"] & Pick<UserCommands, "verify" | "issueNewCode">;
}

const contactNames: Record<Channel, string> = { phone: "Phone", email: "Email" };

const verificationFields = { verificationCode: { type: "string", maxLength: 20 } } as const;

export async function verifyKiiAddress(
  deps: KiiAddressVerificationDeps,
  caller: KiiCaller,
  ref: KiiUserRef,
  channel: Channel,
  body: KiiBody,
): Promise<{ verificationStatus: "VERIFIED" }> {
  const code = requiredField(readKiiFields(body, verificationFields).verificationCode, "verificationCode");
  return runKiiCall(deps, `Verify${contactNames[channel]}`, caller, async (context, actor) => {
    const userId = await authorizedAddressOwner(deps, caller, ref, { kind: "verify", channel }, context);
    await deps.commands.verify(userId, channel, code, actor);
    return { verificationStatus: "VERIFIED" };
  });
}

/** A fresh code sent to the address awaiting verification, within the send limits. */
export async function resendKiiVerification(
  deps: KiiAddressVerificationDeps,
  caller: KiiCaller,
  ref: KiiUserRef,
  channel: Channel,
  body: KiiBody,
): Promise<void> {
  readKiiFields(body, {});
  await runKiiCall(deps, `Resend${contactNames[channel]}Code`, caller, async (context, actor) => {
    const userId = await authorizedAddressOwner(deps, caller, ref, { kind: "resend", channel }, context);
    await deps.commands.issueNewCode(userId, channel, { kind: "send" }, actor);
  });
}

/** A fresh code returned to the caller, not sent: neither counted as a send nor held back by the cooldown. */
export async function resetKiiVerificationCode(
  deps: KiiAddressVerificationDeps,
  caller: KiiCaller,
  ref: KiiUserRef,
  channel: Channel,
  body: KiiBody,
): Promise<{ verificationCode: string }> {
  readKiiFields(body, {});
  return runKiiCall(deps, `Reset${contactNames[channel]}Code`, caller, async (context, actor) => {
    const userId = await authorizedAddressOwner(deps, caller, ref, { kind: "reset-code", channel }, context);
    const { code } = await deps.commands.issueNewCode(userId, channel, { kind: "return" }, actor);
    if (code === undefined) throw new Error("a code asked to be returned was not");
    return { verificationCode: code };
  });
}

/** The user's id, once the caller may act on its address; the context learns the address for error answers. */
async function authorizedAddressOwner(
  deps: KiiAddressVerificationDeps,
  caller: KiiCaller,
  ref: KiiUserRef,
  operation: KiiUserOperation & { channel: Channel },
  context: KiiErrorContext,
): Promise<string> {
  const userId = userIdOf(caller, ref);
  context.userId = userId;
  context.channel = operation.channel;
  const state = await authorizedKiiUser(deps, caller, userId, [operation]);
  const contact = state[operation.channel];
  const address = contact.pending ?? contact.verified;
  if (address === undefined) context.addressless = true;
  else context.addresses = { [operation.channel]: address };
  return userId;
}
