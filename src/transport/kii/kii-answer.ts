// Writes Kii answers: JSON under Kii's content types (UTF-8, as JSON always is, so without a charset, as Kii sends
// them), errors as their exception's type with Retry-After where a wait helps. Answers carry personal data or codes,
// so no cache may keep them.
import type { KiiError } from "../../api/kii/kii-error.js";
import type { NodeRequest, NodeResponse } from "../call-context.js";
import { discardUpload } from "../error-answer.js";

export interface KiiAnswer {
  status: number;
  /** The Kii type's name: "UserDataRetrievalResponse" is sent as application/vnd.kii.UserDataRetrievalResponse+json. */
  type?: string;
  body?: unknown;
  headers?: Record<string, string>;
}

export function sendKiiAnswer(res: NodeResponse, answer: KiiAnswer): void {
  const text = answer.body === undefined ? "" : JSON.stringify(answer.body);
  res.writeHead(answer.status, {
    ...(answer.type === undefined ? {} : { "content-type": `application/vnd.kii.${answer.type}+json` }),
    "content-length": String(Buffer.byteLength(text)),
    "cache-control": "no-store",
    ...answer.headers,
  });
  res.end(text);
}

/** Also for refusals before the body was read: whatever is left of the upload is dropped, not read. */
export function sendKiiError(req: NodeRequest, res: NodeResponse, error: KiiError, headers: Record<string, string> = {}): void {
  discardUpload(req);
  sendKiiAnswer(res, {
    status: error.status,
    type: error.exception,
    body: error.body(),
    headers: { ...(error.retryAfterSeconds === undefined ? {} : { "retry-after": String(error.retryAfterSeconds) }), ...headers },
  });
}
