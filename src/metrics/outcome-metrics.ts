// What verifications end in and which limits refuse calls, whichever API (the ZITADEL RPCs or Kii's) was used.
// Outcomes are "verified" or a domain error's reason, limits the names the limit rules give: both fixed sets in
// the code, so the series stay few.
import { Counter, type Registry } from "prom-client";
import type { CallOutcomeObserver } from "../api/call-outcomes.js";
import { limitReasons } from "../api/security-outcomes.js";

const verifiedChannels: Readonly<Record<string, string>> = { VerifyPhone: "phone", VerifyEmail: "email" };

export function createOutcomeMetrics(registry: Registry): CallOutcomeObserver {
  const verifications = new Counter({
    name: "verifyd_verifications_total",
    help: 'Verification attempts by channel and outcome ("verified" or the refusal\'s reason).',
    labelNames: ["channel", "outcome"] as const,
    registers: [registry],
  });
  const limitHits = new Counter({
    name: "verifyd_limit_hits_total",
    help: "Calls refused by a limit or throttle, by the limit's name (or the refusal's reason when it names none).",
    labelNames: ["limit"] as const,
    registers: [registry],
  });
  return (method, error) => {
    const channel = verifiedChannels[method];
    if (channel) verifications.inc({ channel, outcome: error?.reason ?? "verified" });
    if (error && limitReasons.has(error.reason)) limitHits.inc({ limit: error.metadata.limit ?? error.reason });
  };
}
