// HTTP/1.1 lets a client send requests without waiting for the answers (pipelining). Node parses every request a
// read brings and keeps their answers in line, so a client that sent thousands and read none made the process hold
// each of them with its answer: 600 MB from 100 connections. A connection with more unanswered requests than this is
// closed. HTTP/2 needs no such bound: its streams per connection are limited (--max-concurrent-streams).
import http from "node:http";
import type net from "node:net";
import type { NodeHandler } from "./call-context.js";

/** Browsers do not pipeline at all; a client that does rarely keeps more than a few requests unanswered. */
const maxUnansweredHttp1Requests = 32;

export function limitPipelinedRequests(handler: NodeHandler): NodeHandler {
  const unanswered = new WeakMap<net.Socket, number>();
  return (req, res) => {
    if (!(res instanceof http.ServerResponse)) return handler(req, res);
    const { socket } = req;
    const waiting = (unanswered.get(socket) ?? 0) + 1;
    if (waiting > maxUnansweredHttp1Requests) {
      socket.destroy();
      return;
    }
    unanswered.set(socket, waiting);
    res.once("close", () => unanswered.set(socket, (unanswered.get(socket) ?? 1) - 1));
    handler(req, res);
  };
}
