// The one serialization of the document, so the file written by scripts/openapi.ts, the test comparing it and the
// server's answer agree byte for byte.
import type { OpenApiDocument } from "./openapi-document.js";

export function openApiJson(document: OpenApiDocument): string {
  return `${JSON.stringify(document, null, 2)}\n`;
}
