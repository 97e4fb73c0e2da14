// Production mode as an operator meets it: `npm start -- --production` with an unsafe setting does not start, and
// names the setting; without --production the same setting starts the server with a warning.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runServerProcessToExit, serverProcessDirectories, startServerProcess } from "../helpers/server-process.js";

const tempDirectory = serverProcessDirectories("verifyd-production-");
const database = join(tempDirectory(), "verifyd.sqlite");
const keys = `1:${Buffer.alloc(32, 9).toString("base64")}`;

describe("production mode", () => {
  it("refuses unsafe settings with one line each and exit code 2", async () => {
    const run = await runServerProcessToExit(database, ["--production", "--cors-origins", "*", "--failure-lockout", "0s"], {
      env: { VERIFYD_KEYS: keys },
    });
    expect(run.code).toBe(2);
    const output = run.stderr.join("\n");
    expect(output).toMatch(/--cors-origins \/ VERIFYD_CORS_ORIGINS: .*refused with --production/);
    expect(output).toMatch(/--failure-lockout \/ VERIFYD_FAILURE_LOCKOUT: .*refused with --production/);
    expect(output).not.toMatch(/^\s+at /m);
  });

  it("starts in development with the same settings and warns about each", async () => {
    const server = await startServerProcess(database, { args: ["--cors-origins", "*"], env: { VERIFYD_KEYS: keys } });
    const warning = server.stderr.find((line) => line.includes("--cors-origins"));
    expect(warning && JSON.parse(warning)).toMatchObject({ level: "warn" });
    await server.stop();
  });
});
