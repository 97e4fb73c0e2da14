// The logger's own destination, stderr, in a process of its own: every line arrives whole and in order, those of a
// busy turn and those written just before process.exit alike.
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";

function runScript(script: string) {
  const result = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "--eval", script], {
    cwd: new URL("../..", import.meta.url),
    encoding: "utf8",
  });
  const lines = result.stderr
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as { message: string; n?: number });
  return { status: result.status, lines };
}

describe("the logger's lines on stderr", () => {
  it("writes a busy turn's lines and the ones after it in order, and those before process.exit", () => {
    const { status, lines } = runScript(`
      import { createLogger } from "./src/logger.ts";
      const logger = createLogger("info");
      for (let n = 0; n < 500; n++) logger.info("call", { n });
      setTimeout(() => {
        logger.info("a later turn");
        logger.error("refusing to start");
        process.exit(3);
      }, 20);
    `);
    expect(status).toBe(3);
    expect(lines.map((line) => line.n ?? line.message)).toEqual([...Array.from({ length: 500 }, (_, n) => n), "a later turn", "refusing to start"]);
  });

  it("writes the lines of a process that ends by itself", () => {
    const { status, lines } = runScript(`
      import { createLogger } from "./src/logger.ts";
      createLogger("info").warn("the only line");
    `);
    expect(status).toBe(0);
    expect(lines.map((line) => line.message)).toEqual(["the only line"]);
  });
});
