#!/usr/bin/env node
// `verifyd`, `npm start` and `node --max-semi-space-size=8 dist/main.js`: the command line (src/cli/), `serve` when no
// command is named. The flag caps V8's young generation at 16 MiB instead of 32 MiB: about 15 MiB less resident memory
// under load at the same CPU per call (README: Performance). V8 takes it only when node starts, so the production
// start, `npm start` and the Dockerfile's command give it; not this line, since BusyBox's env (Alpine) has no -S.
import { runCli } from "./cli/run-cli.js";
import { applyGcSettings } from "./gc-settings.js";
import { startProtobufWritersInHeap } from "./protobuf-writer-start.js";

applyGcSettings(process.execArgv, process.env.NODE_OPTIONS);
startProtobufWritersInHeap();

// exitCode rather than exit(): output still being written to a pipe is not cut off.
process.exitCode = await runCli(process.argv.slice(2), process.env);
