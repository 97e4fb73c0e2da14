// What a REST request must say about its body before the gateway reads it; otherwise 415 Unsupported Media Type.
//
// A route that takes a body takes JSON labelled application/json. POST, PUT and PATCH must carry that label even
// with an empty body: a browser sends a POST without a content type, or with text/plain, form or multipart types,
// cross-site without asking first (a CORS "simple" request), so reading those would let any web page call us, e.g.
// to resend an SMS code. application/json is a type a simple request cannot carry, so the browser asks first and
// CORS decides. A DELETE is never simple, so one without a content type is still read (RemovePhone has `body: "*"`
// as in ZITADEL, whose clients send no body there).
import { Code, ConnectError } from "@connectrpc/connect";
import { unsupportedContentCoding } from "./content-encoding.js";
import type { RestRoute } from "./rest-routes.js";

const methodsThatMustLabelTheirBody = new Set(["POST", "PUT", "PATCH"]);

/** Whether a request to the route must come with a JSON body, `{}` at least, to be read (as the OpenAPI says). */
export function mustSendBody(route: RestRoute): boolean {
  return route.body.kind !== "none" && methodsThatMustLabelTheirBody.has(route.httpMethod);
}

/** The InvalidArgument error to answer with 415, or undefined when the gateway can read the body. */
export function unsupportedMediaError(
  route: RestRoute,
  contentType: string | undefined,
  contentEncoding: string | undefined,
): ConnectError | undefined {
  const mustBeJson = contentType !== undefined || methodsThatMustLabelTheirBody.has(route.httpMethod);
  if (route.body.kind !== "none" && mustBeJson && !isJson(contentType)) {
    const received = contentType === undefined ? "no content type" : `content type "${contentType}"`;
    return new ConnectError(
      `${route.httpMethod} ${route.template.source} takes application/json (UTF-8); received ${received}`,
      Code.InvalidArgument,
    );
  }
  const coding = unsupportedContentCoding(contentEncoding);
  if (coding !== undefined) {
    return new ConnectError(
      `content encoding "${coding}" is not supported: send gzip, deflate, br or identity`,
      Code.InvalidArgument,
    );
  }
  return undefined;
}

/**
 * application/json, with any parameters but a charset other than UTF-8, the only one JSON has (RFC 8259); media types
 * and charset names are case-insensitive.
 */
function isJson(contentType: string | undefined): boolean {
  const [mediaType = "", ...parameters] = (contentType ?? "").split(";");
  return mediaType.trim().toLowerCase() === "application/json" && parameters.every(isUtf8IfCharset);
}

function isUtf8IfCharset(parameter: string): boolean {
  const [name = "", value = ""] = parameter.split("=", 2).map((part) => part.trim().toLowerCase());
  return name !== "charset" || ["utf-8", "utf8", '"utf-8"'].includes(value);
}
