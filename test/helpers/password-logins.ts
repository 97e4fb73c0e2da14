// POST /oauth2/token from a chosen local address (every 127.0.0.0/8 address reaches the loopback), as one client among
// several: what the limits on password checks per client are tested with.
import http from "node:http";

export interface TokenAnswer {
  status: number;
  retryAfter: string | undefined;
  error: unknown;
}

/** A form-encoded password grant over `agent` (which carries the local address), with any extra request headers. */
export function loginFrom(url: string, agent: http.Agent, username: string, password: string, headers: http.OutgoingHttpHeaders = {}): Promise<TokenAnswer> {
  const body = new URLSearchParams({ grant_type: "password", username, password }).toString();
  return new Promise((resolve, reject) => {
    const request = http.request(
      `${url}/oauth2/token`,
      { method: "POST", agent, headers: { "content-type": "application/x-www-form-urlencoded", "content-length": body.length, ...headers } },
      (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () => {
          const answer = JSON.parse(Buffer.concat(chunks).toString()) as { error?: unknown };
          resolve({ status: response.statusCode ?? 0, retryAfter: response.headers["retry-after"], error: answer.error });
        });
      },
    );
    request.on("error", reject);
    request.end(body);
  });
}
