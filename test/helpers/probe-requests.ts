// What an orchestrator's plain HTTP probe does: a GET (or HEAD, or by mistake another method) with no token, over HTTP/1.1 or HTTP/2 (h2c with
// prior knowledge), optionally on a connection opened earlier.
import http from "node:http";
import http2 from "node:http2";
import type net from "node:net";

export type HttpVersion = "http/1.1" | "h2";

export interface ProbeAnswer {
  status: number;
  contentType: string | undefined;
  cacheControl: string | undefined;
  allow: string | undefined;
  body: string;
}

export interface ProbeOptions {
  method?: string;
  /** A connection already open to the server, to send the request on. */
  socket?: net.Socket;
}

export function probe(url: string, path: string, version: HttpVersion, options: ProbeOptions = {}): Promise<ProbeAnswer> {
  return version === "h2" ? probeHttp2(url, path, options) : probeHttp1(url, path, options);
}

function probeHttp1(url: string, path: string, { method = "GET", socket }: ProbeOptions): Promise<ProbeAnswer> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      new URL(path, url),
      // A request given its connection must have no agent: an agent makes its own.
      { method, ...(socket ? { createConnection: () => socket } : { agent: false }) },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (body += chunk));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            contentType: res.headers["content-type"],
            cacheControl: res.headers["cache-control"],
            allow: res.headers.allow,
            body,
          }),
        );
      },
    );
    req.on("error", reject);
    req.end();
  });
}

function probeHttp2(url: string, path: string, { method = "GET", socket }: ProbeOptions): Promise<ProbeAnswer> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(url, socket ? { createConnection: () => socket } : {});
    session.on("error", reject);
    const stream = session.request({ ":method": method, ":path": path });
    let status = 0;
    let contentType: string | undefined;
    let cacheControl: string | undefined;
    let allow: string | undefined;
    let body = "";
    stream.setEncoding("utf8");
    stream.on("response", (headers) => {
      status = Number(headers[":status"]);
      contentType = headers["content-type"];
      cacheControl = headers["cache-control"];
      allow = headers.allow;
    });
    stream.on("data", (chunk: string) => (body += chunk));
    stream.on("error", reject);
    stream.on("end", () => {
      session.close();
      resolve({ status, contentType, cacheControl, allow, body });
    });
  });
}
