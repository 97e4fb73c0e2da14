// The ceilings: bare Node servers that answer every POST with one prebuilt VerifyPhone response and do nothing else.
// What verifyd reaches as a fraction of these is what its own work (routing, validation, SQLite, crypto) costs.
//
// Run as a child process: `node --import tsx bench/canned-servers.ts h2|h1 PORT`.
import http from "node:http";
import http2 from "node:http2";
import { create, toBinary, toJsonString } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { VerifyPhoneResponseSchema } from "../src/gen/zitadel/user/v2/user_service_pb.js";

// The same answer verifyd gives to a first successful verification, so response sizes match.
const response = create(VerifyPhoneResponseSchema, {
  details: { sequence: 3n, changeDate: timestampFromDate(new Date()), resourceOwner: "312345678901234567" },
});

/** gRPC over h2c: one length-prefixed message (flag byte 0, uint32 big-endian length), then grpc-status 0. */
function startH2(): http2.Http2Server {
  const message = toBinary(VerifyPhoneResponseSchema, response);
  const frame = Buffer.alloc(5 + message.length);
  frame.writeUInt32BE(message.length, 1);
  frame.set(message, 5);
  // The stream API, not the compatibility layer: the cheapest a Node h2 server can answer.
  const server = http2.createServer();
  server.on("stream", (stream, headers) => {
    if (headers[":method"] !== "POST") {
      stream.respond({ ":status": 405 }, { endStream: true });
      return;
    }
    stream.resume(); // the request body is read and dropped
    stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
    stream.once("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
    stream.end(frame);
  });
  return server;
}

/** JSON over HTTP/1.1: valid both as a REST answer and as a Connect unary JSON answer. */
function startH1(): http.Server {
  const body = Buffer.from(toJsonString(VerifyPhoneResponseSchema, response));
  const headers = { "content-type": "application/json", "content-length": String(body.length) };
  // keepAliveTimeout above the bench's pauses, so clients never race a server-side close.
  return http.createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
    req.resume();
    if (req.method !== "POST") {
      res.writeHead(405).end();
      return;
    }
    req.once("end", () => res.writeHead(200, headers).end(body));
  });
}

const [kind, port] = process.argv.slice(2);
if ((kind !== "h2" && kind !== "h1") || !port) {
  console.error("usage: canned-servers.ts h2|h1 PORT");
  process.exit(2);
}
(kind === "h2" ? startH2() : startH1()).listen(Number(port), "127.0.0.1");
process.once("SIGTERM", () => process.exit(0));
