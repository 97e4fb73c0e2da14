// A request's path without its query string, as every route and check of the port compares it. Without a `?` the URL
// itself is the path, and nothing is allocated: several checks read it on every call (README, performance, step 29).
import type { NodeRequest } from "./call-context.js";

export function pathOf(req: NodeRequest): string {
  const url = req.url ?? "";
  const query = url.indexOf("?");
  return query === -1 ? url : url.slice(0, query);
}

/** What follows the `?`, empty without one. */
export function queryOf(req: NodeRequest): string {
  const url = req.url ?? "";
  const query = url.indexOf("?");
  return query === -1 ? "" : url.slice(query + 1);
}
