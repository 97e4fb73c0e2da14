// A unary call (on the RPC protocols' fast path, unary-fast-path.ts, and through the REST gateway) as the interceptors
// and the implementation see it, built as they read it. connect-es's createHandlerContext and
// invokeUnaryImplementation make three abort controllers, copy three header sets, read every field of the context and
// wrap every interceptor anew for every call, though a VerifyPhone reads none of those fields. Here the signal (with
// its deadline timer and the client's departure) starts when first read, the headers exist once something reads or
// sets them, and each method's interceptor chain is built once.
import { type DescMessage, type MessageShape, create } from "@bufbuild/protobuf";
import {
  Code,
  ConnectError,
  type ContextValues,
  type HandlerContext,
  type Interceptor,
  type MethodImplSpec,
  type UnaryRequest,
  type UnaryResponse,
} from "@connectrpc/connect";
import type { NodeResponse } from "./call-context.js";

export type UnaryMethodSpec = Extract<MethodImplSpec, { kind: "unary" }>;

export interface UnaryCallInit {
  protocolName: string;
  /** The HTTP method: POST on the RPC protocols, the route's on REST. */
  requestMethod: string;
  /** From the call's timeout header; absent without one. */
  timeoutMs: number | undefined;
  url: () => string;
  requestHeader: () => Headers;
  /** The protocol's fixed response headers and trailers, copied only when something reads or changes them. */
  responseHeader: Readonly<Record<string, string>>;
  responseTrailer: Readonly<Record<string, string>>;
  values: ContextValues;
  res: NodeResponse;
}

/** Runs one unary call through the interceptors and the implementation: a chain built once per method. */
export type UnaryInvoker = (call: UnaryCall, input: MessageShape<DescMessage>) => Promise<MessageShape<DescMessage>>;

// Interceptors that pass a request or response of their own ({ ...req, … }) pass this key along with the rest.
const callKey = Symbol("verifyd.unaryCall");
type KeyedRequest = UnaryRequest & { [callKey]?: UnaryCall };
type KeyedResponse = UnaryResponse & { [callKey]: UnaryCall };

/**
 * The fields of a request and of a response that are made when first read, as own enumerable accessors (so that
 * `{ ...req }` keeps them) whose getters are the same functions for every call. A getter written in a per-call object
 * literal is a new function each time, so V8 turns each such object into a dictionary, with an accessor pair it
 * allocates in the old generation; that pair pointed at the call's closure, and every call's objects outlived it,
 * were promoted, and waited for a full collection (README, performance, step 23).
 */
const lazyRequestFields: Record<"url" | "signal" | "header", PropertyDescriptor> = {
  url: { enumerable: true, get: lazily((call) => call.url) },
  signal: { enumerable: true, get: lazily((call) => call.signal) },
  header: { enumerable: true, get: lazily((call) => call.requestHeader) },
};
const lazyResponseFields: Record<"header" | "trailer", PropertyDescriptor> = {
  header: { enumerable: true, get: lazily((call) => call.responseHeader) },
  trailer: { enumerable: true, get: lazily((call) => call.responseTrailer) },
};

/** A getter of a request's or response's field, from the call the object carries. */
function lazily<T>(read: (call: UnaryCall) => T): (this: KeyedRequest | KeyedResponse) => T {
  return function (this: KeyedRequest | KeyedResponse) {
    return read(callIn(this));
  };
}

function callIn(request: KeyedRequest | KeyedResponse): UnaryCall {
  const call = request[callKey];
  if (!call) throw new ConnectError("an interceptor dropped the call from its request or response", Code.Internal);
  return call;
}

export function unaryInvoker(spec: UnaryMethodSpec, interceptors: readonly Interceptor[]): UnaryInvoker {
  const implementation = async (req: UnaryRequest | { stream: true }): Promise<UnaryResponse> => {
    const request = req as KeyedRequest;
    const call = callIn(request);
    const output = await spec.impl(request.message, new CallHandlerContext(call, request));
    return call.response(spec.method, create(spec.method.output, output));
  };
  const chain = interceptors.reduceRight((next, interceptor) => interceptor(next), implementation as Parameters<Interceptor>[0]);
  return async (call, input) => {
    const response = await chain(call.request(spec, input));
    if (response.stream) throw new ConnectError("a unary call answered with a stream", Code.Internal);
    call.adoptHeaders(response);
    return response.message;
  };
}

export class UnaryCall {
  private readonly deadline: number | undefined;
  private controller: AbortController | undefined;
  private deadlineTimer: NodeJS.Timeout | undefined;
  private header: Headers | undefined;
  private trailer: Headers | undefined;
  private requestHeaders: Headers | undefined;
  private answer: UnaryResponse | undefined;
  private ended = false;

  constructor(private readonly init: UnaryCallInit) {
    this.deadline = init.timeoutMs === undefined ? undefined : Date.now() + init.timeoutMs;
  }

  get protocolName(): string {
    return this.init.protocolName;
  }

  get url(): string {
    return this.init.url();
  }

  /** What is left of the call's timeout; undefined without one. */
  timeLeftMs(): number | undefined {
    return this.deadline === undefined ? undefined : this.deadline - Date.now();
  }

  get signal(): AbortSignal {
    this.controller ??= this.startSignal();
    return this.controller.signal;
  }

  get requestHeader(): Headers {
    this.requestHeaders ??= this.init.requestHeader();
    return this.requestHeaders;
  }

  get responseHeader(): Headers {
    this.header ??= new Headers(this.init.responseHeader);
    return this.header;
  }

  get responseTrailer(): Headers {
    this.trailer ??= new Headers(this.init.responseTrailer);
    return this.trailer;
  }

  /**
   * The response headers as Node writes them: the protocol's own unless something changed them. A copy made with
   * Object.assign, not a spread: the protocols add to it (Connect's content length, a failed call's status), and
   * every field added to a spread copy took 0.35–0.6 µs on Node 20 (README, performance, step 41).
   */
  responseHeaderRecord(): Record<string, string> {
    return this.header ? Object.fromEntries(this.header) : Object.assign({}, this.init.responseHeader);
  }

  responseTrailerRecord(): Record<string, string> {
    return this.trailer ? Object.fromEntries(this.trailer) : Object.assign({}, this.init.responseTrailer);
  }

  /** The response headers, then trailers, that something read or set (each value apart, as Headers iterate). */
  *touchedResponseHeaders(): Generator<[string, string]> {
    if (this.header) yield* this.header;
    if (this.trailer) yield* this.trailer;
  }

  /** The call is answered: its deadline no longer runs, and a signal read later is already aborted. */
  end(): void {
    this.ended = true;
    clearTimeout(this.deadlineTimer);
    this.controller?.abort(new ConnectError("the call ended", Code.Canceled));
  }

  /** The request the first interceptor gets; its url, signal and header are lazyRequestFields. */
  request(spec: UnaryMethodSpec, input: MessageShape<DescMessage>): KeyedRequest {
    const fields: Omit<KeyedRequest, keyof typeof lazyRequestFields> = {
      stream: false,
      service: spec.method.parent,
      method: spec.method,
      requestMethod: this.init.requestMethod,
      message: input,
      contextValues: this.init.values,
      [callKey]: this,
    };
    // defineProperties returns its argument, typed without the fields it added.
    return Object.defineProperties(fields, lazyRequestFields) as KeyedRequest;
  }

  /** The implementation's answer; its header and trailer are lazyResponseFields. */
  response(method: UnaryResponse["method"], message: MessageShape<DescMessage>): UnaryResponse {
    const fields: Omit<KeyedResponse, keyof typeof lazyResponseFields> = { stream: false, service: method.parent, method, message, [callKey]: this };
    this.answer = Object.defineProperties(fields, lazyResponseFields) as KeyedResponse;
    return this.answer;
  }

  /** An interceptor may answer with headers of its own; those are the call's then. */
  adoptHeaders(response: UnaryResponse): void {
    if (response === this.answer) return;
    copyHeaders(response.header, this.responseHeader);
    copyHeaders(response.trailer, this.responseTrailer);
  }

  private startSignal(): AbortController {
    const controller = new AbortController();
    const { res } = this.init;
    const clientGone = () => controller.abort(new ConnectError("the client cancelled the call", Code.Canceled));
    if (this.ended) {
      controller.abort(new ConnectError("the call ended", Code.Canceled));
    } else if (res.destroyed && !res.writableFinished) {
      clientGone();
    } else {
      res.once("close", () => {
        if (!res.writableFinished) clientGone();
      });
      const left = this.timeLeftMs();
      if (left !== undefined) {
        const timedOut = () => controller.abort(new ConnectError("the operation timed out", Code.DeadlineExceeded));
        if (left <= 0) timedOut();
        else this.deadlineTimer = setTimeout(timedOut, left);
      }
    }
    return controller;
  }
}

/**
 * The implementation's context: the request's fields as the last interceptor passed them on. A class, so that its
 * getters are the prototype's, one set for every call (see lazyRequestFields); nothing spreads a handler's context.
 */
class CallHandlerContext implements HandlerContext {
  readonly method: HandlerContext["method"];
  readonly service: HandlerContext["service"];
  readonly requestMethod: string;
  readonly protocolName: string;
  readonly values: ContextValues;

  constructor(
    private readonly call: UnaryCall,
    private readonly req: UnaryRequest,
  ) {
    this.method = req.method;
    this.service = req.service;
    this.requestMethod = req.requestMethod;
    this.protocolName = call.protocolName;
    this.values = req.contextValues;
  }

  readonly timeoutMs = (): number | undefined => this.call.timeLeftMs();

  get url(): string {
    return this.req.url;
  }

  get signal(): AbortSignal {
    return this.req.signal;
  }

  get requestHeader(): Headers {
    return this.req.header;
  }

  get responseHeader(): Headers {
    return this.call.responseHeader;
  }

  get responseTrailer(): Headers {
    return this.call.responseTrailer;
  }
}

function copyHeaders(from: Headers, to: Headers): void {
  if (from === to) return;
  for (const name of [...to.keys()]) to.delete(name);
  from.forEach((value, name) => to.set(name, value));
}
