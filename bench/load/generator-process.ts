// The orchestrator's handle on a load generator: a child process of its own, so that its CPU is not the server's
// and not the orchestrator's, driven phase by phase over IPC.
import { fork } from "node:child_process";
import { join } from "node:path";
import type { GeneratorConfig, Phase, PhaseResult } from "./load-job.js";

export interface LoadGenerator {
  run(phase: Phase): Promise<PhaseResult>;
  close(): Promise<void>;
}

export function startLoadGenerator(config: GeneratorConfig): LoadGenerator {
  const child = fork(join(import.meta.dirname, "generator.ts"), [JSON.stringify(config)], { execArgv: ["--import", "tsx"] });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return {
    run(phase) {
      return new Promise((resolve, reject) => {
        const onExit = (code: number | null) => reject(new Error(`the load generator exited (${code}) during a phase`));
        child.once("exit", onExit);
        child.once("message", (result) => {
          child.off("exit", onExit);
          resolve(result as PhaseResult);
        });
        child.send(phase);
      });
    },
    async close() {
      if (child.connected) child.disconnect();
      await exited;
    },
  };
}
