// Runs one Kii use case: a domain error becomes Kii's answer for it, and its security outcomes (the same as the
// ZITADEL RPC's, under a method name such as "Kii/VerifyPhone") go to the security log first. Its outcome is
// reported like an RPC's, under the same method name ("VerifyPhone").
import { DomainError } from "../../domain/errors.js";
import type { Actor } from "../../domain/user-commands.js";
import type { CallOutcomeObserver } from "../call-outcomes.js";
import type { SecurityRecorder } from "../security-recorder.js";
import { type FailedCall, securityOutcomesOf } from "../security-outcomes.js";
import { type KiiCaller, kiiActorOf } from "./kii-caller.js";
import { type KiiErrorContext, kiiErrorOf } from "./kii-error-mapping.js";

export interface KiiCallDeps {
  recordSecurityEvent: SecurityRecorder;
  observeOutcome: CallOutcomeObserver;
}

export async function runKiiCall<T>(
  deps: KiiCallDeps,
  method: string,
  caller: KiiCaller,
  /**
   * Fills in what it learns as it goes (the user, the address), for the fields of an error answer. `actor`: the caller
   * for the domain's commands, with the security outcomes of a refusal to commit with the change that records it.
   */
  useCase: (context: KiiErrorContext, actor: Actor) => Promise<T>,
): Promise<T> {
  const context: KiiErrorContext = {
    appId: caller.app.id,
    authenticated: {
      appId: caller.app.id,
      ...(caller.kind === "user" ? { principalId: caller.principal.userId } : {}),
    },
  };
  const { callerId } = kiiActorOf(caller);
  const failedCall = (): FailedCall => ({
    method: `Kii/${method}`,
    caller: { actorId: callerId },
    ...(context.userId ? { userId: context.userId } : {}),
    // A Kii app acts within its organization only.
    organizationId: caller.app.organizationId,
  });
  const actor: Actor = { callerId, securityOutcomesOf: (refusal) => securityOutcomesOf(refusal, failedCall()) };
  try {
    const result = await useCase(context, actor);
    deps.observeOutcome(method);
    return result;
  } catch (error) {
    if (!(error instanceof DomainError)) throw error;
    deps.observeOutcome(method, error);
    const stored = error.loggedSecurityEvents;
    for (const event of stored ?? securityOutcomesOf(error, failedCall())) {
      await deps.recordSecurityEvent(event, undefined, stored !== undefined);
    }
    throw kiiErrorOf(error, context);
  }
}
