// Kii Cloud's REST API as an app written against Kii calls it: fetch over HTTP/1.1 to {base}/api/apps/{appID}/…, with
// Basic app credentials or a bearer token and Kii's content types. Apps are made through ApplicationService (Connect
// JSON, as curl would), and the codes a person receives are read from what the test server delivered.
import type { OutgoingMessage } from "../../src/domain/outgoing-message.js";
import { unique, uniqueMobile } from "./api-session.js";
import type { TestServer } from "./test-server.js";

export interface KiiResponse {
  status: number;
  /** The media type without parameters. */
  contentType: string | undefined;
  headers: Headers;
  // biome-ignore lint: JSON of any shape
  body: any;
}

export interface KiiRequest {
  /** A full Authorization header value; see basic() and bearerOf(). */
  authorization?: string;
  contentType?: string;
  /** An object is sent as JSON; a string as it is. */
  body?: unknown;
  headers?: Record<string, string>;
}

export function basic(appId: string, appKey: string): string {
  return `Basic ${Buffer.from(`${appId}:${appKey}`).toString("base64")}`;
}

export function bearerOf(token: string): string {
  return `Bearer ${token}`;
}

export async function kiiFetch(baseUrl: string, method: string, path: string, request: KiiRequest = {}): Promise<KiiResponse> {
  const body = request.body === undefined ? undefined : typeof request.body === "string" ? request.body : JSON.stringify(request.body);
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: {
      ...(request.authorization === undefined ? {} : { authorization: request.authorization }),
      ...(request.contentType === undefined ? {} : { "content-type": request.contentType }),
      ...request.headers,
    },
    ...(body === undefined ? {} : { body }),
  });
  const text = await response.text();
  return {
    status: response.status,
    contentType: response.headers.get("content-type")?.split(";", 1)[0],
    headers: response.headers,
    body: text ? JSON.parse(text) : undefined,
  };
}

export interface KiiApp {
  appId: string;
  appKey: string;
  organizationId: string;
  /** Basic credentials with the app's key. */
  basic: string;
  /** A call under /api/apps/{appID}. */
  call(method: string, path: string, request?: KiiRequest): Promise<KiiResponse>;
  /** POST /oauth2/token with the password grant and Basic appID:<anything>, as Kii's page shows it. */
  login(username: string, password: string): Promise<KiiResponse>;
}

/** CreateApplication in the organization, with the token of a caller allowed to (default: the IAM_OWNER). */
export async function createKiiApp(
  server: Pick<TestServer, "url" | "adminToken">,
  organizationId: string,
  token = server.adminToken,
): Promise<KiiApp> {
  const response = await fetch(`${server.url}/verifyd.apps.v1.ApplicationService/CreateApplication`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify({ organizationId, name: "Kii app" }),
  });
  const created = (await response.json()) as { application?: { appId: string }; appKey?: string; message?: string };
  if (response.status !== 200 || !created.application || !created.appKey) {
    throw new Error(`CreateApplication: ${response.status} ${created.message}`);
  }
  return kiiApp(server.url, created.application.appId, created.appKey, organizationId);
}

export function kiiApp(baseUrl: string, appId: string, appKey: string, organizationId: string): KiiApp {
  const call = (method: string, path: string, request?: KiiRequest) => kiiFetch(baseUrl, method, `/api/apps/${appId}${path}`, request);
  return {
    appId,
    appKey,
    organizationId,
    basic: basic(appId, appKey),
    call,
    login: (username, password) =>
      call("POST", "/oauth2/token", {
        authorization: basic(appId, "anything"),
        // The type Kii's token reference names; application/json and a form work too.
        contentType: "application/vnd.kii.OauthTokenRequest+json",
        body: { grant_type: "password", username, password },
      }),
  };
}

export const verificationRequestType = "application/vnd.kii.AddressVerificationRequest+json";
export const registrationRequestType = "application/vnd.kii.RegistrationRequest+json";

/** The codes delivered to `destination` from `mark` on, after the outbox ran. */
export async function deliveredCodes(server: TestServer, destination: string, mark: number): Promise<string[]> {
  await server.outbox.runOnce();
  return server.delivered
    .slice(mark)
    .filter((message: OutgoingMessage) => message.destination === destination && message.purpose === "code")
    .map((message) => {
      const code = /verification code is (\w+)\b/.exec(message.text)?.[1];
      if (code === undefined) throw new Error(`no code in message: ${message.text}`);
      return code;
    });
}

/** The last code delivered to `destination` during `action`. */
export async function codeSentDuring(server: TestServer, destination: string, action: () => Promise<unknown>): Promise<string> {
  const mark = server.delivered.length;
  await action();
  const codes = await deliveredCodes(server, destination, mark);
  const code = codes.at(-1);
  if (code === undefined) throw new Error(`no code was delivered to ${destination}`);
  return code;
}

/** Kii's two kinds of address, with the names each takes in paths, bodies and errors, and a fresh one of each. */
export const kiiChannels = [
  {
    name: "phone",
    segment: "phone-number",
    field: "phoneNumber",
    verified: "phoneNumberVerified",
    pending: "_phoneNumberPending",
    accountType: "PHONE",
    inUse: "PHONE_ALREADY_IN_USE",
    fresh: uniqueMobile,
  },
  {
    name: "email",
    segment: "email-address",
    field: "emailAddress",
    verified: "emailAddressVerified",
    pending: "_emailAddressPending",
    accountType: "EMAIL",
    inUse: "EMAIL_ALREADY_IN_USE",
    fresh: () => `${unique("kii")}@example.com`,
  },
] as const;
