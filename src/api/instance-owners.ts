// The instance must always keep someone who can act as IAM_OWNER: without one, nobody could grant roles, reactivate
// a user or add an organization again. Owners who are deactivated or locked cannot act, so they do not count.
import { type MemberStore, instanceResource } from "../domain/access/member.js";
import { errors } from "../domain/errors.js";
import type { UserStore } from "../domain/ports.js";

export interface InstanceOwnersDeps {
  members: Pick<MemberStore, "list">;
  users: Pick<UserStore, "load">;
}

/** Throws LAST_INSTANCE_OWNER when `userId` is the only active IAM_OWNER; called before it loses the role or its status. */
export async function keepAnotherActiveInstanceOwner(deps: InstanceOwnersDeps, userId: string): Promise<void> {
  const owners = (await deps.members.list([instanceResource])).filter((member) => member.roles.includes("IAM_OWNER"));
  if (!owners.some((owner) => owner.userId === userId)) return;
  for (const owner of owners) {
    if (owner.userId !== userId && (await deps.users.load(owner.userId))?.status === "active") return;
  }
  throw errors.lastInstanceOwner();
}
