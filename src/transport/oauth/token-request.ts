// The parameters of a token request (RFC 6749 §3.2): form-encoded as the RFC says, or JSON as Kii Cloud accepts.
import { fromJsonString, toJson } from "@bufbuild/protobuf";
import { StructSchema } from "@bufbuild/protobuf/wkt";

export type TokenParameters = Map<string, string>;

/** The JSON media types a token request may carry: application/json, or others where a surface has its own (Kii). */
export const plainJson = /^application\/json$/i;

/**
 * The parameters, or undefined for a body that is neither a form nor a JSON object, repeats a parameter, or gives one
 * that the endpoint reads as anything but a string.
 */
export function parseTokenRequest(contentType: string | undefined, body: Uint8Array, jsonType = plainJson): TokenParameters | undefined {
  const mediaType = (contentType ?? "").split(";", 1)[0]?.trim().toLowerCase() ?? "";
  const text = new TextDecoder("utf-8", { fatal: true });
  try {
    if (mediaType === "application/x-www-form-urlencoded") return formParameters(text.decode(body));
    if (jsonType.test(mediaType)) return jsonParameters(text.decode(body));
  } catch {
    return undefined;
  }
  return undefined;
}

function formParameters(text: string): TokenParameters | undefined {
  const parameters: TokenParameters = new Map();
  for (const [name, value] of new URLSearchParams(text)) {
    // RFC 6749 §3.2: parameters must not be repeated; which of two passwords to check would be a guess.
    if (parameters.has(name)) return undefined;
    parameters.set(name, value);
  }
  return parameters;
}

function jsonParameters(text: string): TokenParameters | undefined {
  // Read as a google.protobuf.Struct, which refuses a repeated member as the form above does (JSON.parse keeps the
  // last one, where a proxy in front may read the first) and anything but an object.
  const value = toJson(StructSchema, fromJsonString(StructSchema, text)) as Record<string, unknown>;
  const parameters: TokenParameters = new Map();
  for (const [name, field] of Object.entries(value)) {
    if (typeof field === "string") parameters.set(name, field);
    // Another client's parameter may be of any type (Kii's expiresAt is a number); one of ours must be a string.
    else if (readParameters.has(name)) return undefined;
  }
  return parameters;
}

/** The parameters the token endpoint reads. */
const readParameters = new Set(["grant_type", "username", "password", "organization_id"]);
