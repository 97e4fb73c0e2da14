// GET /openapi.json: the REST gateway's OpenAPI document. No token, like server reflection: it describes the contract
// that the .proto files already publish, and tools (Swagger UI, code generators) fetch it without credentials.
import type { NodeRequest, NodeResponse } from "./call-context.js";
import { refusedUnlessRead } from "./read-only-path.js";
import { pathOf } from "./request-path.js";

/** Answers and returns true for any request to /openapi.json: GET or HEAD, or else 405. */
export function createOpenApiEndpoint(documentJson: string): (req: NodeRequest, res: NodeResponse) => boolean {
  const body = Buffer.from(documentJson);
  return (req, res) => {
    if (pathOf(req) !== "/openapi.json") return false;
    if (refusedUnlessRead(req, res)) return true;
    res.writeHead(200, { "content-type": "application/json", "content-length": body.length });
    if (req.method === "HEAD") res.end();
    else res.end(body);
    return true;
  };
}
