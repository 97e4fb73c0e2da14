// POST /oauth2/token in the OpenAPI document: the password login (transport/oauth/token-endpoint.ts) is no RPC, so
// its operation is written here, answers as RFC 6749 §5 gives them.
import { tokenPath } from "../transport/oauth/token-endpoint.js";
import type { JsonSchema } from "./proto-json-schema.js";

const form = "application/x-www-form-urlencoded";
const json = "application/json";

const tokenRequest: JsonSchema = {
  type: "object",
  required: ["grant_type", "username", "password"],
  properties: {
    grant_type: { type: "string", enum: ["password"] },
    username: { type: "string", description: "a username, or a verified phone number or email address" },
    password: { type: "string" },
    organization_id: { type: "string", description: "logs in within this organization only" },
  },
};

const tokenAnswer: JsonSchema = {
  type: "object",
  required: ["id", "access_token", "expires_in", "token_type"],
  properties: {
    id: { type: "string", description: "the user's id" },
    access_token: { type: "string", description: "a bearer token for acting as the user" },
    expires_in: { type: "integer", description: "seconds until the token expires" },
    token_type: { type: "string", enum: ["bearer"] },
  },
};

const oauthError: JsonSchema = {
  type: "object",
  required: ["error"],
  properties: {
    error: {
      type: "string",
      enum: ["invalid_request", "invalid_grant", "unsupported_grant_type", "slow_down", "temporarily_unavailable", "server_error"],
    },
    error_description: { type: "string" },
  },
};

const retryAfter = { "Retry-After": { schema: { type: "integer" }, description: "seconds to wait" } };

const refusal = (description: string, headers?: Record<string, unknown>) => ({
  description,
  ...(headers ? { headers } : {}),
  content: { [json]: { schema: oauthError } },
});

export { tokenPath };

export function tokenOperation(): Record<string, unknown> {
  return {
    tags: ["oauth2"],
    summary: "PasswordLogin",
    description: "A person's login name and password for a bearer token (OAuth 2.0's password grant), form-encoded or JSON.",
    operationId: "oauth2_PasswordLogin",
    requestBody: { required: true, content: { [form]: { schema: tokenRequest }, [json]: { schema: tokenRequest } } },
    responses: {
      "200": { description: "Logged in", content: { [json]: { schema: tokenAnswer } } },
      "400": refusal("invalid_grant for any wrong name or password, alike; invalid_request or unsupported_grant_type for a malformed request"),
      "413": refusal("a body larger than the server takes"),
      "429": refusal("slow_down: too many failed logins for this name, or this client's share of the password checks under way", retryAfter),
      "503": refusal("temporarily_unavailable: the storage is failing or busy, or the password checks are all taken", retryAfter),
    },
    security: [],
  };
}
