// GET /metrics, read the way Prometheus reads it: after calls over every protocol and Kii's REST API, a wrong code,
// a send refused by the cooldown and a message left waiting, the scrape parses as Prometheus text and counts each of
// them under its labels, with no user id, number or address in any label. Also on a port of its own, and off.
import { mkdtempSync, rmSync } from "node:fs";
import { get } from "node:http";
import { connect } from "node:http2";
import { tmpdir } from "node:os";
import { join } from "node:path";
import parsePrometheusTextFormat, { type PrometheusFamily, type PrometheusSample } from "parse-prometheus-text-format";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { createLogger } from "../../src/logger.js";
import { packageVersion } from "../../src/package-version.js";
import { type RunningServer, startServer } from "../../src/server.js";
import { uniqueMobile } from "../helpers/api-session.js";
import { type ProtocolName, allProtocols, expectFailure, expectOk, protocolClient } from "../helpers/protocol-clients.js";
import { ManualClock, readAdminToken, startTestServer } from "../helpers/test-server.js";

const profile = { givenName: "Ada", familyName: "Lovelace" };
const wireProtocolOf: Record<ProtocolName, string> = {
  "connect-json": "connect",
  "connect-binary": "connect",
  "connect-h2": "connect",
  grpc: "grpc",
  "grpc-web": "grpc-web",
  rest: "rest",
};

async function scrapeText(url: string): Promise<string> {
  const response = await fetch(`${url}/metrics`);
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
  return response.text();
}

/** The grpc-status of a gRPC call to a service the server does not have. */
function grpcStatusOfUnknownService(url: string, token: string): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const session = connect(url);
    session.on("error", reject);
    const stream = session.request({
      ":method": "POST",
      ":path": "/no.such.Service/Call",
      "content-type": "application/grpc",
      te: "trailers",
      authorization: `Bearer ${token}`,
    });
    stream.resume();
    stream.on("trailers", (trailers) => resolve(trailers["grpc-status"] as string | undefined));
    stream.on("response", (headers) => {
      if (headers["grpc-status"] !== undefined) resolve(headers["grpc-status"] as string);
    });
    stream.on("close", () => session.close());
    stream.end(Buffer.from([0, 0, 0, 0, 0]));
  });
}

/** A GET naming another host than the server's, which fetch cannot send. */
function statusWithHost(url: string, path: string, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    get(new URL(path, url), { headers: { host } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    }).once("error", reject);
  });
}

function family(families: PrometheusFamily[], name: string): PrometheusFamily {
  const found = families.find((candidate) => candidate.name === name);
  if (!found) throw new Error(`no metric ${name}`);
  return found;
}

/** The one sample whose labels include `labels`, or undefined. */
function sample(families: PrometheusFamily[], name: string, labels: Record<string, string> = {}): PrometheusSample | undefined {
  return family(families, name).metrics.find((candidate) =>
    Object.entries(labels).every(([key, value]) => candidate.labels?.[key] === value),
  );
}

function valueOf(families: PrometheusFamily[], name: string, labels: Record<string, string> = {}): number {
  return Number(sample(families, name, labels)?.value ?? Number.NaN);
}

describe("metrics on the main port", () => {
  // No delivery provider: a code asked for with send_code waits in the outbox.
  let server: RunningServer;
  let dataDir: string;
  let token: string;
  const clock = new ManualClock();
  const personalData: string[] = [];
  let text: string;
  let families: PrometheusFamily[];

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "verifyd-metrics-"));
    const config = loadConfig(["--port", "0", "--database", join(dataDir, "verifyd.sqlite"), "--log-level", "silent"], {});
    server = await startServer(config, { clock, logger: createLogger("silent") });
    token = readAdminToken(config.adminTokenFile);

    for (const protocol of allProtocols) {
      const client = protocolClient(protocol, server.url, token);
      const phone = uniqueMobile();
      const email = `ada.${protocol}@example.com`;
      const added = expectOk(
        await client.call("addHumanUser", { profile, phone: { phone, returnCode: {} }, email: { email, returnCode: {} } }),
      );
      const userId = added.userId as string;
      personalData.push(userId, phone, phone.slice(1), email);
      expectOk(await client.call("verifyPhone", { userId, verificationCode: added.phoneCode as string }));
    }

    const client = protocolClient("connect-json", server.url, token);
    const phone = uniqueMobile();
    const sent = expectOk(await client.call("addHumanUser", { profile, phone: { phone, sendCode: {} } }));
    const userId = sent.userId as string;
    personalData.push(userId, phone, phone.slice(1));
    expect(expectFailure(await client.call("verifyPhone", { userId, verificationCode: "000000" })).code).toBe(3);
    expect(expectFailure(await client.call("resendPhoneCode", { userId, sendCode: {} })).errorInfo?.reason).toBe(
      "SEND_LIMIT_REACHED",
    );
    expect((await fetch(`${server.url}/api/apps/0badc0de/no-such-thing`)).status).toBe(404);
    // Refused before they reach their handler: a token nobody issued, and none at all.
    for (const protocol of ["grpc", "rest"] as const) {
      const stranger = protocolClient(protocol, server.url, "not-a-token-verifyd-issued");
      expect(expectFailure(await stranger.call("verifyPhone", { userId, verificationCode: "123456" })).code).toBe(16);
    }
    expect((await fetch(`${server.url}/v2/users/${userId}`)).status).toBe(401);
    expect((await fetch(`${server.url}/v2/no-such-route`)).status).toBe(401);
    // Refused by the transport before any RPC read them.
    const bearer = { authorization: `Bearer ${token}` };
    expect((await fetch(`${server.url}/v2/no-such-route`, { headers: bearer })).status).toBe(404);
    const plainText = { method: "POST", headers: { ...bearer, "content-type": "text/plain" }, body: "123456" };
    expect((await fetch(`${server.url}/v2/users/${userId}/phone/verify`, plainText)).status).toBe(415);
    expect(await statusWithHost(server.url, "/v2/users/1", "evil.example")).toBe(421);
    expect(await grpcStatusOfUnknownService(server.url, token)).toBe("12");
    const login = await fetch(`${server.url}/oauth2/token`, {
      method: "POST",
      body: new URLSearchParams({ grant_type: "password", username: "nobody-here", password: "not a password" }),
    });
    expect(login.status).toBe(400);
    clock.advance(30_000);

    text = await scrapeText(server.url);
    families = parsePrometheusTextFormat(text);
  });
  afterAll(async () => {
    await server.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("counts every RPC by service, method, protocol and gRPC code name", () => {
    const calls = "verifyd_calls_total";
    const userService = "zitadel.user.v2.UserService";
    for (const protocol of new Set(Object.values(wireProtocolOf))) {
      const expected = Object.entries(wireProtocolOf).filter(([, wire]) => wire === protocol).length;
      expect(valueOf(families, calls, { service: userService, method: "VerifyPhone", protocol, code: "ok" })).toBe(expected);
      expect(valueOf(families, calls, { service: userService, method: "AddHumanUser", protocol, code: "ok" })).toBeGreaterThanOrEqual(
        expected,
      );
    }
    expect(valueOf(families, calls, { method: "VerifyPhone", protocol: "connect", code: "invalid_argument" })).toBe(1);
    expect(valueOf(families, calls, { method: "ResendPhoneCode", protocol: "connect", code: "resource_exhausted" })).toBe(1);
    expect(valueOf(families, calls, { service: "Kii", method: "Unmatched", protocol: "kii", code: "404" })).toBe(1);
  });

  it("counts calls refused for their token under the RPC they name, and no series for a path that names none", () => {
    const calls = "verifyd_calls_total";
    const service = "zitadel.user.v2.UserService";
    for (const protocol of ["grpc", "rest"]) {
      expect(valueOf(families, calls, { service, method: "VerifyPhone", protocol, code: "unauthenticated" })).toBe(1);
    }
    expect(valueOf(families, calls, { service, method: "GetUserByID", protocol: "rest", code: "unauthenticated" })).toBe(1);
    const refused = family(families, calls).metrics.filter((metric) => metric.labels?.code === "unauthenticated");
    expect(refused).toHaveLength(3);
  });

  it("counts requests the transport refused before any RPC read them, by protocol, HTTP status and code", () => {
    const refused = "verifyd_requests_refused_total";
    expect(valueOf(families, refused, { protocol: "rest", status: "404", code: "not_found" })).toBe(1);
    expect(valueOf(families, refused, { protocol: "rest", status: "415", code: "invalid_argument" })).toBe(1);
    expect(valueOf(families, refused, { protocol: "rest", status: "421" })).toBe(1);
    expect(valueOf(families, refused, { protocol: "grpc", status: "200", code: "unimplemented" })).toBe(1);
    // Without a token, a path that names no RPC is refused for that first.
    expect(valueOf(families, refused, { protocol: "rest", status: "401", code: "unauthenticated" })).toBe(1);
    // Kii's unmatched path is a call of Kii's (above), not counted twice; probes and scrapes are no refusals.
    expect(family(families, refused).metrics.filter((metric) => metric.labels?.protocol === "kii")).toEqual([]);
  });

  it("counts logins at the token endpoint as OAuth/Token, by HTTP status", () => {
    expect(valueOf(families, "verifyd_calls_total", { service: "OAuth", method: "Token", protocol: "oauth", code: "400" })).toBe(1);
  });

  it("times calls in a histogram with cumulative buckets", () => {
    expect(family(families, "verifyd_call_duration_seconds").type).toBe("HISTOGRAM");
    // The parser folds a histogram's labelled series into one (it follows prom2json's single-series shape), so one
    // series is read from the exposition lines themselves.
    const series = /^verifyd_call_duration_seconds_(bucket|sum|count)\{(?:le="([^"]+)",)?service="zitadel\.user\.v2\.UserService",method="VerifyPhone",protocol="grpc"\} (\S+)$/;
    const lines = text.split("\n").flatMap((line) => {
      const match = series.exec(line);
      return match ? [{ kind: match[1], bound: match[2], value: Number(match[3]) }] : [];
    });
    const buckets = lines.filter((line) => line.kind === "bucket");
    expect(buckets.length).toBeGreaterThan(5);
    // The verification, and the call refused for its token.
    expect(buckets.at(-1)).toMatchObject({ bound: "+Inf", value: 2 });
    const counts = buckets.map((bucket) => bucket.value);
    expect(counts).toEqual([...counts].sort((a, b) => a - b));
    expect(lines.find((line) => line.kind === "count")?.value).toBe(2);
    expect(lines.find((line) => line.kind === "sum")?.value).toBeGreaterThan(0);
  });

  it("counts verification outcomes by channel and reason, and limit hits by limit", () => {
    expect(valueOf(families, "verifyd_verifications_total", { channel: "phone", outcome: "verified" })).toBe(allProtocols.length);
    expect(valueOf(families, "verifyd_verifications_total", { channel: "phone", outcome: "INVALID_VERIFICATION_CODE" })).toBe(1);
    expect(valueOf(families, "verifyd_limit_hits_total", { limit: "send_cooldown" })).toBe(1);
  });

  it("shows the waiting message and its age, read from the outbox at the scrape", () => {
    expect(valueOf(families, "verifyd_outbox_pending_messages")).toBe(1);
    expect(valueOf(families, "verifyd_outbox_oldest_pending_age_seconds")).toBe(30);
  });

  it("says which build runs and whether the database takes reads and writes", () => {
    const info = family(families, "verifyd_build_info");
    expect(info.metrics).toEqual([expect.objectContaining({ value: "1", labels: { version: packageVersion() } })]);
    expect(valueOf(families, "verifyd_storage_healthy")).toBe(1);
  });

  it("includes the process's default metrics", () => {
    expect(family(families, "process_cpu_user_seconds_total").type).toBe("COUNTER");
    expect(family(families, "nodejs_eventloop_lag_seconds").type).toBe("GAUGE");
  });

  it("puts no user id, phone number or address in any label", () => {
    const labelValues = families.flatMap((each) => each.metrics.flatMap((metric) => Object.values(metric.labels ?? {})));
    expect(labelValues.length).toBeGreaterThan(0);
    for (const value of labelValues) {
      for (const secret of personalData) expect(value).not.toContain(secret);
    }
    // Also the histogram lines the parser folds together.
    for (const secret of personalData) expect(text).not.toContain(secret);
  });

  it("answers under any host name, without a token, like the probes", async () => {
    const statusFor = (path: string) =>
      new Promise<number>((resolve, reject) => {
        get(`${server.url}${path}`, { headers: { host: "10.0.0.7:8080" } }, (response) => {
          response.resume();
          resolve(response.statusCode ?? 0);
        }).on("error", reject);
      });
    expect(await statusFor("/metrics")).toBe(200);
    expect(await statusFor("/v2/users")).toBe(421);
  });
});

describe("metrics on a port of their own", () => {
  it("serves /metrics there only, and counts deliveries by channel, provider and outcome, and times the provider's answers", async () => {
    const server = await startTestServer(["--metrics-port", "0"]);
    try {
      expect(server.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(server.metricsUrl).not.toBe(server.url);
      const onMainPort = await fetch(`${server.url}/metrics`);
      expect(onMainPort.status).toBe(404);
      expect(await onMainPort.text()).toBe(`metrics are on --metrics-port 0\n`);

      const client = protocolClient("connect-json", server.url, server.adminToken);
      expectOk(await client.call("addHumanUser", { profile, phone: { phone: uniqueMobile(), sendCode: {} } }));
      await server.outbox.runOnce();
      expect(server.delivered).toHaveLength(1);

      const text = await scrapeText(server.metricsUrl as string);
      const families = parsePrometheusTextFormat(text);
      expect(valueOf(families, "verifyd_deliveries_total", { channel: "phone", provider: "custom", outcome: "delivered" })).toBe(1);
      expect(text).toMatch(/^verifyd_delivery_duration_seconds_count\{channel="phone",provider="custom"\} 1$/m);
      expect(valueOf(families, "verifyd_outbox_pending_messages")).toBe(0);
      expect(valueOf(families, "verifyd_outbox_oldest_pending_age_seconds")).toBe(0);
      expect((await fetch(`${server.metricsUrl}/healthz`)).status).toBe(404);
    } finally {
      await server.close();
    }
  });
});

describe("metrics off", () => {
  it("serves no /metrics with --metrics false", async () => {
    const server = await startTestServer(["--metrics", "false"]);
    try {
      expect(server.metricsUrl).toBeUndefined();
      const response = await fetch(`${server.url}/metrics`);
      expect(response.status).toBe(404);
      expect(await response.text()).toBe("metrics are off (--metrics)\n");
    } finally {
      await server.close();
    }
  });
});
