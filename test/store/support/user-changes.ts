// Hand-made events and the changes they make, folded with the domain's own `apply`.
import type { EventBody, UserEvent } from "../../../src/domain/events.js";
import type { NewOutboxMessage, UserChange } from "../../../src/domain/ports.js";
import { type UserState, apply } from "../../../src/domain/user-state.js";

export const at = (minute: number) => new Date(Date.UTC(2025, 0, 1, 12, minute));

/** A person named Ada Lovelace with an unverified phone, unless `person` says otherwise. */
export function userAdded(id: string, username: string, resourceOwner = "org-1", person: Partial<HumanAddedPayload> = {}): UserChange {
  return build(undefined, { id, resourceOwner }, [
    {
      type: "user.human.added",
      payload: { username, profile: { givenName: "Ada", familyName: "Lovelace" }, phone: "+41791234567", ...person },
    },
  ]);
}

type HumanAddedPayload = Extract<EventBody, { type: "user.human.added" }>["payload"];

export function machineAdded(id: string, username: string, resourceOwner = "org-1"): UserChange {
  return build(undefined, { id, resourceOwner }, [
    { type: "user.machine.added", payload: { username, name: "Deploy bot", description: "Ships releases" } },
  ]);
}

/** The change `bodies` make to `state` (or to a new user), stamped one minute apart after its last change. */
function build(
  state: UserState | undefined,
  user: { id: string; resourceOwner: string },
  bodies: EventBody[],
  outbox: NewOutboxMessage[] = [],
): UserChange {
  const expectedSequence = state?.sequence ?? 0;
  const events: UserEvent[] = bodies.map((body, i) => ({
    ...body,
    aggregateId: user.id,
    resourceOwner: user.resourceOwner,
    sequence: expectedSequence + i + 1,
    createdAt: at(expectedSequence + i + 1),
  }));
  const next = events.reduce<UserState | undefined>((s, event) => apply(s, event), state);
  if (!next) throw new Error("a change needs at least one event");
  return { userId: user.id, expectedSequence, events, next, supersededChannels: [], outbox, limited: [] };
}

export function changeUser(state: UserState, bodies: EventBody[], outbox: NewOutboxMessage[] = []): UserChange {
  return build(state, state, bodies, outbox);
}

export function phoneCodeAdded(expiresAt: Date): EventBody {
  return {
    type: "user.human.phone.code.added",
    payload: { hash: "aGFzaA", keyId: "key-1", expiresAt: expiresAt.toISOString(), delivery: "send" },
  };
}

export function message(
  id: string,
  userId: string,
  createdAt: Date,
  expiresAt: Date,
  purpose: NewOutboxMessage["purpose"] = "code",
): NewOutboxMessage {
  const sealed = new TextEncoder().encode(`sealed ${id}`);
  return { id, userId, channel: "phone", purpose, keyId: "key-1", sealed, createdAt, expiresAt };
}
