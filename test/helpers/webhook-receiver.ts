// A webhook receiver for delivery tests: a real HTTP server that records every request verifyd makes, answers as
// the test tells it (a status, or no answer at all), and verifies requests as a receiver would, with the Standard
// Webhooks project's own library and the documented `whsec_` secret.
import { randomBytes } from "node:crypto";
import { type IncomingHttpHeaders, type ServerResponse, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";
import type { WebhookPayload } from "../../src/delivery/webhook/webhook-payload.js";

export interface ReceivedRequest {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** What the receiver does with one request: answer with a status, or hold it unanswered until it closes. */
/** A status, at once; "hang": never an answer; `{ afterMs }`: 204 that much later; `{ status, retryAfter }`: with that header. */
export type ReceiverAnswer = number | "hang" | { afterMs: number } | { status: number; retryAfter: string };

export interface WebhookReceiver {
  /** http://127.0.0.1:<port>, without a path. */
  url: string;
  /** The secret verifyd signs with, as the operator gives it. */
  secret: string;
  /** Every request so far, in arrival order. */
  received: ReceivedRequest[];
  /** Answers for the next requests, in order; once used up, every request gets 204. */
  answers: ReceiverAnswer[];
  /** Verifies a request with the library (throws WebhookVerificationError when not authentic) and returns its payload. */
  verify(request: ReceivedRequest, withSecret?: string): WebhookPayload;
  /** The distinct webhook-ids received, in order of their first arrival. */
  webhookIds(): string[];
  /** Resolves once `count` requests have arrived in all. */
  waitForRequests(count: number, timeoutMs?: number): Promise<void>;
  /** Forgets what was received and the answers not yet used. */
  reset(): void;
  close(): Promise<void>;
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const secret = `whsec_${randomBytes(32).toString("base64")}`;
  const received: ReceivedRequest[] = [];
  const answers: ReceiverAnswer[] = [];
  const held: ServerResponse[] = [];
  const arrivals = new Set<() => void>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      received.push({ path: req.url ?? "", headers: req.headers, body: Buffer.concat(chunks).toString("utf8") });
      const answer = answers.shift() ?? 204;
      if (answer === "hang") held.push(res);
      else if (typeof answer === "object" && "afterMs" in answer) setTimeout(() => res.writeHead(204).end(), answer.afterMs);
      else if (typeof answer === "object") res.writeHead(answer.status, { "retry-after": answer.retryAfter }).end();
      else res.writeHead(answer).end();
      for (const arrived of arrivals) arrived();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));

  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    secret,
    received,
    answers,
    verify: (request, withSecret = secret) =>
      new Webhook(withSecret).verify(request.body, request.headers as Record<string, string>) as WebhookPayload,
    webhookIds: () => [...new Set(received.map((request) => String(request.headers["webhook-id"])))],
    waitForRequests: (count, timeoutMs = 20_000) =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (received.length < count) return;
          clearTimeout(timer);
          arrivals.delete(check);
          resolve();
        };
        const timer = setTimeout(() => {
          arrivals.delete(check);
          reject(new Error(`${received.length} of ${count} requests within ${timeoutMs} ms`));
        }, timeoutMs);
        arrivals.add(check);
        check();
      }),
    reset() {
      received.length = 0;
      answers.length = 0;
    },
    async close() {
      for (const res of held) res.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
