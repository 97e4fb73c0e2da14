// connect-node hands requests for unknown procedures to its fallback, which is our REST gateway. A gRPC, gRPC-Web or
// Connect client must instead get Unimplemented in its own framing, so those are answered here first.
import { Code, ConnectError } from "@connectrpc/connect";
import type { NodeRequest, NodeResponse } from "./call-context.js";
import { pathOf } from "./request-path.js";
import { answerError, framingOf } from "./error-answer.js";

/** Answers and returns true when the request is an RPC to a procedure this server does not have. */
export function answerUnknownProcedure(req: NodeRequest, res: NodeResponse): boolean {
  if (framingOf(req) === "rest") return false;
  const path = pathOf(req);
  // Connect answers a procedure it does not have with 404, as connect-es's own router does.
  answerError(req, res, new ConnectError(`unknown procedure ${path}`, Code.Unimplemented), { connectHttpStatus: 404 });
  return true;
}
