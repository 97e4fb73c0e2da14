// Who calls Kii's API: an application with its key (Kii's anonymous access, `Authorization: Basic APP_ID:APP_KEY`),
// or a user with a bearer token (a password login's token, a personal access token), always under the app the path
// names, which stands for one organization. Resolved afresh on every call, like our bearer tokens: a removed app or
// token stops working at once.
import { timingSafeEqual } from "node:crypto";
import type { Principal } from "../../domain/access/principal.js";
import { type Application, type ApplicationStore, applicationCallerId } from "../../domain/applications/application.js";
import { holdsControlCharacter } from "../../domain/control-characters.js";
import type { Authenticator } from "../../domain/ports.js";
import type { Actor } from "../../domain/user-commands.js";
import { KiiError, kiiUnauthorized } from "./kii-error.js";

export type KiiCredentials = { scheme: "basic"; appId: string; appKey: string } | { scheme: "bearer"; token: string };

export type KiiCaller =
  | { kind: "application"; app: Application }
  | { kind: "user"; app: Application; principal: Principal };

export interface KiiCallerDeps {
  applications: Pick<ApplicationStore, "find">;
  authenticator: Authenticator;
  /** The stored form of an app key (SHA-256, as for tokens: keys are random, so a fast hash suffices). */
  hashKey(key: string): string;
}

/** The caller, or a 401 (404 for an app id nobody has). */
export async function authenticateKiiCaller(
  deps: KiiCallerDeps,
  pathAppId: string,
  credentials: KiiCredentials | undefined,
): Promise<KiiCaller> {
  const app = await applicationOf(deps, pathAppId);
  if (credentials === undefined) throw missingCredentials();
  if (credentials.scheme === "bearer") {
    const principal = await deps.authenticator.authenticate(credentials.token);
    if (!principal) {
      throw kiiUnauthorized("The access token is unknown, expired or removed, or its user is disabled", "UNAUTHENTICATED");
    }
    return { kind: "user", app: withoutKeyHash(app), principal };
  }
  if (credentials.appId !== app.id || !sameHash(deps.hashKey(credentials.appKey), app.keyHash)) {
    throw kiiUnauthorized("The app id or app key is wrong", "UNAUTHENTICATED");
  }
  return { kind: "application", app: withoutKeyHash(app) };
}

/**
 * The app a token request logs in to. Kii's page has clients send the app id "and an arbitrary value" there: the
 * user's password is the credential that counts, so only the app id is checked.
 */
export async function authenticateTokenRequest(
  deps: KiiCallerDeps,
  pathAppId: string,
  credentials: KiiCredentials | undefined,
): Promise<Application> {
  const app = await applicationOf(deps, pathAppId);
  if (credentials?.scheme !== "basic") throw missingCredentials();
  if (credentials.appId !== app.id) throw kiiUnauthorized("The app id does not match the path's", "UNAUTHENTICATED");
  return withoutKeyHash(app);
}

async function applicationOf(deps: KiiCallerDeps, appId: string): Promise<Application & { keyHash: string }> {
  // An id with a control character is no app's (control-characters.ts): answered as any id nobody has, without
  // asking the store.
  const app = holdsControlCharacter(appId) ? undefined : await deps.applications.find(appId);
  if (!app) {
    throw new KiiError(404, "AppNotFoundException", "APP_NOT_FOUND", `Application ${appId} not found`, "APP_NOT_FOUND", {
      appID: appId,
    });
  }
  return app;
}

function missingCredentials(): KiiError {
  return kiiUnauthorized(
    "Send Authorization: Basic base64(APP_ID:APP_KEY) or Authorization: Bearer <access token>",
    "UNAUTHENTICATED",
  );
}

/** Compared in constant time, so the answer's timing tells nothing about how much of a key was right. */
function sameHash(given: string, stored: string): boolean {
  const a = Buffer.from(given, "hex");
  const b = Buffer.from(stored, "hex");
  return a.length === b.length && timingSafeEqual(a, b);
}

function withoutKeyHash({ keyHash: _kept, ...app }: Application & { keyHash: string }): Application {
  return app;
}

/** Who the limits and the security log count: the user behind a token, or the app itself as one caller. */
export function kiiActorOf(caller: KiiCaller): Actor {
  return { callerId: caller.kind === "application" ? applicationCallerId(caller.app.id) : caller.principal.userId };
}
