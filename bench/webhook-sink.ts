// The receiver of verifyd's SMS and email webhooks during the bench. While a row is measured it holds each request
// unanswered, so verifyd's delivery worker waits on its first message and delivery (signing, one POST per message)
// stays out of the row's figures, as the peers, which only write their outbox, deliver nothing either. release()
// answers what it holds, and everything after, with 204 before the server is stopped: a shutdown lets the delivery
// under way finish, and must not wait for it.
import http from "node:http";
import type { AddressInfo } from "node:net";

export interface WebhookSink {
  url: string;
  hold(): void;
  release(): void;
  close(): Promise<void>;
}

export async function startWebhookSink(): Promise<WebhookSink> {
  let holding = true;
  const held = new Set<http.ServerResponse>();
  const server = http.createServer((req, res) => {
    req.resume();
    req.once("end", () => {
      if (!holding) return void res.writeHead(204).end();
      held.add(res);
      res.once("close", () => held.delete(res));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhook`,
    hold: () => {
      holding = true;
    },
    release() {
      holding = false;
      for (const res of held) res.writeHead(204).end();
      held.clear();
    },
    close() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
