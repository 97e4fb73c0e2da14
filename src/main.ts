#!/usr/bin/env node
// `verifyd`, `npm start` and `node dist/main.js`: the command line (src/cli/), `serve` when no command is named.
import { runCli } from "./cli/run-cli.js";
import { limitHeapGrowth } from "./heap-growth.js";

limitHeapGrowth(process.execArgv, process.env.NODE_OPTIONS);

// exitCode rather than exit(): output still being written to a pipe is not cut off.
process.exitCode = await runCli(process.argv.slice(2), process.env);
