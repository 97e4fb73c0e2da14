// A Kii request body: JSON labelled with one of Kii's own types (application/vnd.kii.AddressVerificationRequest+json
// and the like) or application/json, at most --max-body-bytes, read only after the credentials passed. A POST
// without a content type may carry no body (Kii's resend and reset calls send none); its credentials travel in the
// Authorization header, which no cross-site "simple" request can set, and verifyd never asks a browser for Basic
// credentials (no WWW-Authenticate: Basic), so no browser adds them by itself.
import { KiiError } from "../../api/kii/kii-error.js";
import type { KiiBody } from "../../api/kii/kii-request-fields.js";
import type { NodeRequest } from "../call-context.js";
import { readBodyWithin } from "../rest/request-body.js";

/** Also what Kii's token endpoint takes as JSON (application/vnd.kii.OauthTokenRequest+json, say). */
export const kiiJsonType = /^application\/(json|vnd\.kii\.[A-Za-z0-9]+\+json)$/i;

export async function readKiiBody(req: NodeRequest, maxBytes: number): Promise<KiiBody> {
  const contentType = req.headers["content-type"];
  const mediaType = contentType?.split(";", 1)[0]?.trim();
  if (mediaType !== undefined && !kiiJsonType.test(mediaType)) {
    throw unsupportedMedia(
      `Send application/json or a Kii type such as application/vnd.kii.AddressVerificationRequest+json; received "${contentType}"`,
    );
  }
  const encoding = req.headers["content-encoding"];
  if (encoding !== undefined && encoding.trim().toLowerCase() !== "identity") {
    throw unsupportedMedia("Send the body without a content encoding");
  }
  const body = await readBodyWithin(req, req.headers["content-length"], maxBytes);
  if (body === undefined) {
    const message = `The body is larger than ${maxBytes} bytes`;
    throw new KiiError(413, "RequestEntityTooLargeException", "REQUEST_ENTITY_TOO_LARGE", message, "BODY_TOO_LARGE");
  }
  if (body.byteLength === 0) return {};
  if (mediaType === undefined) throw unsupportedMedia("A body needs its content type: application/json or a Kii type");
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(body));
  } catch {
    value = undefined;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new KiiError(400, "InvalidInputDataException", "INVALID_INPUT_DATA", "The body is not a JSON object", "MALFORMED_JSON");
  }
  return value as KiiBody;
}

function unsupportedMedia(message: string): KiiError {
  return new KiiError(415, "UnsupportedMediaTypeException", "UNSUPPORTED_MEDIA_TYPE", message, "UNSUPPORTED_MEDIA_TYPE");
}
