// The HandlerContext of a call on the unary fast path (unary-fast-path.ts), built as the handler reads it. connect-es's
// createHandlerContext makes three abort controllers (the call's, its deadline's and the link between them) and copies
// three header sets for every call, though a VerifyPhone reads none of them: 4% of its CPU in
// `npm run bench -- --profile`. Here the signal, with its deadline timer and the client's departure, starts when a
// handler first reads it, and the response headers and trailers exist once something sets one.
import type { ContextValues, HandlerContext } from "@connectrpc/connect";
import { Code, ConnectError } from "@connectrpc/connect";
import type { NodeResponse } from "./call-context.js";

export interface UnaryHandlerContextInit {
  method: HandlerContext["method"];
  protocolName: string;
  /** From the call's timeout header; absent without one. */
  timeoutMs: number | undefined;
  url: () => string;
  requestHeader: () => Headers;
  /** The protocol's fixed response headers and trailers, copied only when a handler or an error changes them. */
  responseHeader: Readonly<Record<string, string>>;
  responseTrailer: Readonly<Record<string, string>>;
  values: ContextValues;
  res: NodeResponse;
}

export class UnaryHandlerContext implements HandlerContext {
  readonly method: HandlerContext["method"];
  readonly service: HandlerContext["service"];
  readonly requestMethod = "POST";
  readonly protocolName: string;
  readonly values: ContextValues;
  private readonly deadline: number | undefined;
  private controller: AbortController | undefined;
  private deadlineTimer: NodeJS.Timeout | undefined;
  private header: Headers | undefined;
  private trailer: Headers | undefined;
  private requestHeaders: Headers | undefined;
  private ended = false;

  constructor(private readonly init: UnaryHandlerContextInit) {
    this.method = init.method;
    this.service = init.method.parent;
    this.protocolName = init.protocolName;
    this.values = init.values;
    this.deadline = init.timeoutMs === undefined ? undefined : Date.now() + init.timeoutMs;
  }

  get signal(): AbortSignal {
    this.controller ??= this.startSignal();
    return this.controller.signal;
  }

  readonly timeoutMs = (): number | undefined => (this.deadline === undefined ? undefined : this.deadline - Date.now());

  get url(): string {
    return this.init.url();
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

  /** The response headers as Node writes them: the protocol's own unless something changed them. */
  responseHeaderRecord(): Record<string, string> {
    return this.header ? Object.fromEntries(this.header) : { ...this.init.responseHeader };
  }

  responseTrailerRecord(): Record<string, string> {
    return this.trailer ? Object.fromEntries(this.trailer) : { ...this.init.responseTrailer };
  }

  /** The call is answered: its deadline no longer runs, and a signal read later is already aborted. */
  end(): void {
    this.ended = true;
    clearTimeout(this.deadlineTimer);
    this.controller?.abort(new ConnectError("the call ended", Code.Canceled));
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
      const left = this.timeoutMs();
      if (left !== undefined) {
        const timedOut = () => controller.abort(new ConnectError("the operation timed out", Code.DeadlineExceeded));
        if (left <= 0) timedOut();
        else this.deadlineTimer = setTimeout(timedOut, left);
      }
    }
    return controller;
  }
}
