// The unary fast path's call (src/transport/unary-call.ts) as interceptors and implementations see it: every field of
// connect-es's request and handler context is there when read, what an interceptor changes reaches the
// implementation, and the signal aborts for a deadline or a departed client even though it starts only when read.
import { EventEmitter } from "node:events";
import v8 from "node:v8";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type HandlerContext, type Interceptor, type ServiceImpl, createContextKey, createContextValues, createServiceImplSpec } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { Health, HealthCheckRequestSchema, HealthCheckResponse_ServingStatus } from "../../src/gen/grpc/health/v1/health_pb.js";
import { type NodeRequest, type NodeResponse, requestContextOf } from "../../src/transport/call-context.js";
import { UnaryCall, type UnaryMethodSpec, unaryInvoker } from "../../src/transport/unary-call.js";

const tenant = createContextKey("none");

/** What a Check implementation saw of its context, and the answer it gave. */
function checkSpec(seen: (context: HandlerContext) => void): UnaryMethodSpec {
  const implementation: Partial<ServiceImpl<typeof Health>> = {
    check(_request, context) {
      seen(context);
      context.responseHeader.set("x-handled-by", "check");
      return { status: HealthCheckResponse_ServingStatus.SERVING };
    },
  };
  const service = createServiceImplSpec(Health, implementation);
  return service.methods.check as UnaryMethodSpec;
}

class FakeResponse extends EventEmitter {
  destroyed = false;
  writableFinished = false;
}

function newCall(res = new FakeResponse(), timeoutMs?: number): UnaryCall {
  return new UnaryCall({
    protocolName: "grpc",
    requestMethod: "POST",
    timeoutMs,
    url: () => "http://verifyd.test/grpc.health.v1.Health/Check",
    requestHeader: () => new Headers({ authorization: "Bearer x" }),
    responseHeader: { "content-type": "application/grpc" },
    responseTrailer: { "grpc-status": "0" },
    values: createContextValues().set(tenant, "acme"),
    res: res as unknown as NodeResponse,
  });
}

const input = create(HealthCheckRequestSchema, { service: "" });

// V8's intrinsic, for the one property of these objects that no behaviour shows (the last test says why it matters).
v8.setFlagsFromString("--allow-natives-syntax");
const hasFastProperties = new Function("object", "return %HasFastProperties(object)") as (object: object) => boolean;

describe("a unary call on the fast path", () => {
  it("gives the implementation every field of its context, and keeps the headers it sets", async () => {
    let context: HandlerContext | undefined;
    const call = newCall(undefined, 5000);
    const output = await unaryInvoker(checkSpec((seen) => (context = seen)), [])(call, input);

    expect(output).toMatchObject({ status: HealthCheckResponse_ServingStatus.SERVING });
    expect(context?.url).toBe("http://verifyd.test/grpc.health.v1.Health/Check");
    expect(context?.requestHeader.get("authorization")).toBe("Bearer x");
    expect(context?.values.get(tenant)).toBe("acme");
    expect(context?.method.name).toBe("Check");
    expect(context?.service.typeName).toBe("grpc.health.v1.Health");
    expect(context?.protocolName).toBe("grpc");
    expect(context?.timeoutMs()).toBeGreaterThan(4000);
    expect(context?.signal.aborted).toBe(false);
    expect(call.responseHeaderRecord()).toEqual({ "content-type": "application/grpc", "x-handled-by": "check" });
    expect(call.responseTrailerRecord()).toEqual({ "grpc-status": "0" });
  });

  it("passes on what an interceptor changed in the request, and adopts the headers of an answer it makes", async () => {
    let context: HandlerContext | undefined;
    const retenant: Interceptor = (next) => (req) => next({ ...req, contextValues: createContextValues().set(tenant, "globex") });
    const reanswer: Interceptor = (next) => async (req) => {
      const res = await next(req);
      return { ...res, header: new Headers({ "x-answered-by": "interceptor" }) };
    };
    const call = newCall();
    await unaryInvoker(checkSpec((seen) => (context = seen)), [reanswer, retenant])(call, input);

    expect(context?.values.get(tenant)).toBe("globex");
    expect(context?.requestHeader.get("authorization")).toBe("Bearer x");
    expect(call.responseHeaderRecord()).toEqual({ "x-answered-by": "interceptor" });
  });

  it("aborts the signal at the deadline, when the client leaves, and once the call has ended", async () => {
    const late = newCall(undefined, 20);
    const deadline = await new Promise<unknown>((resolve) => late.signal.addEventListener("abort", () => resolve(late.signal.reason)));
    expect(ConnectError.from(deadline).code).toBe(Code.DeadlineExceeded);

    const res = new FakeResponse();
    const left = newCall(res);
    const signal = left.signal;
    res.emit("close");
    expect(ConnectError.from(signal.reason).code).toBe(Code.Canceled);

    const ended = newCall();
    ended.end();
    expect(ended.signal.aborted).toBe(true);
  });

  // A getter written in a per-call object literal turns the object into a dictionary whose accessor pair V8 allocates
  // in the old generation; that pair kept the call's closure, and everything it reached (the request, the response,
  // the stream), alive through every young-generation collection until the next full one. In the bench that was 6 KB
  // of each call promoted and a full collection every few hundred milliseconds (README, performance, step 23).
  it("hands out a request, context, response and request context with fast properties, so no finished call stays reachable", async () => {
    let request: object | undefined;
    let response: object | undefined;
    let context: HandlerContext | undefined;
    const capture: Interceptor = (next) => async (req) => {
      request = req;
      response = await next(req);
      return response as Awaited<ReturnType<typeof next>>;
    };
    await unaryInvoker(checkSpec((seen) => (context = seen)), [capture])(newCall(), input);
    const node = { headers: { "content-type": "application/grpc" }, socket: { remoteAddress: "127.0.0.1", remotePort: 50000 } };
    const requestContext = requestContextOf(node as unknown as NodeRequest, "grpc");

    expect(hasFastProperties(request as object)).toBe(true);
    expect(hasFastProperties(context as object)).toBe(true);
    expect(hasFastProperties(response as object)).toBe(true);
    expect(hasFastProperties(requestContext)).toBe(true);
    expect(requestContext.headers.get("content-type")).toBe("application/grpc");
  });
});
