// A deadline further away than a timer can wait (2^31 − 1 ms, about 24.8 days) is as good as none. gRPC's largest
// timeouts (`99999999H`; grpc-go writes "no deadline" as `2562047H`) overflowed Node's timers, which then fired at
// once with a warning per call: a health Watch ended after 2 ms, and anyone could write warnings to the log (found by
// an HTTP/2 trial). The header is dropped before either path reads it.
import * as connect from "@connectrpc/connect/protocol-connect";
import * as grpc from "@connectrpc/connect/protocol-grpc";
import type { NodeRequest } from "./call-context.js";

const longestTimerMs = 2 ** 31 - 1;

const timeoutHeaders = [
  ["grpc-timeout", grpc.parseTimeout],
  ["connect-timeout-ms", connect.parseTimeout],
] as const;

export function dropFarDeadline(req: NodeRequest): void {
  for (const [name, parse] of timeoutHeaders) {
    const value = req.headers[name];
    if (typeof value !== "string") continue;
    const { timeoutMs } = parse(value, longestTimerMs);
    if (timeoutMs !== undefined && timeoutMs > longestTimerMs) delete req.headers[name];
  }
}
