// The load generator's process (forked by generator-process.ts, config as JSON in argv): answers every phase message
// with its result. Requests are written by hand as they are sent (a few microseconds each, in its CPU figure).
import type { GeneratorConfig, Phase, PhaseResult } from "./load-job.js";
import { connectionShape } from "./load-job.js";
import { closedLoop, openLoop } from "./schedules.js";
import { http1Transport, http2Transport, roundRobin } from "./transports.js";
import { outcomeOf, wireCall } from "./wire-calls.js";

const config = JSON.parse(process.argv[2] as string) as GeneratorConfig;
const { connections, callsPerConnection } = connectionShape(config.protocol);
const connect = config.protocol === "rest" ? http1Transport : http2Transport;
const transport = roundRobin(config.urls.map((url) => connect(url, Math.ceil(connections / config.urls.length), config.token)));
const slots = connections * callsPerConnection;

function run(phase: Phase): Promise<PhaseResult> {
  const send = (index: number, slot: number) =>
    transport.send(slot, wireCall(config.protocol, config.rpc, config.workload, phase.first + index)).then(
      (response) => outcomeOf(config.protocol, response),
      (error: Error) => `network: ${error.message}`,
    );
  if (phase.mode === "closed") return closedLoop(phase.seconds, phase.limit, slots, send);
  return openLoop(Math.min(phase.limit, Math.max(1, Math.round(phase.rate * phase.seconds))), phase.rate, slots, send);
}

process.on("message", (phase: Phase) => {
  void run(phase).then((result) => process.send?.(result));
});
process.once("disconnect", () => {
  transport.close();
  process.exit(0);
});
