// `npm run build`: compiles src/ to dist/ (or `--out-dir`) for `node dist/main.js`, with the files the code reads
// beside itself at run time (the SQL migrations), so that the output needs only package.json and node_modules.
// dist/main.js keeps src/main.ts's `#!/usr/bin/env node` line and is made executable: package.json's `verifyd` bin.
// `--skip-typecheck` emits the same files without checking the types first.
import { execFileSync } from "node:child_process";
import { chmodSync, cpSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";

const root = join(import.meta.dirname, "..");
const { values } = parseArgs({
  options: { "out-dir": { type: "string", default: join(root, "dist") }, "skip-typecheck": { type: "boolean", default: false } },
});
const outDir = resolve(values["out-dir"]);
// With isolatedModules (tsconfig.json; verbatimModuleSyntax implies it as well), each file compiles to the same
// JavaScript whatever the types say, so the check can be skipped where it ran already (`npm test` typechecks): the
// bench's build of the tree it measures takes a third of the time then.
const noCheckFlag = values["skip-typecheck"] ? ["--noCheck"] : [];

// A file removed from src/ must not live on in the build.
rmSync(outDir, { recursive: true, force: true });
execFileSync(process.execPath, [join(root, "node_modules/typescript/bin/tsc"), "-p", join(root, "tsconfig.build.json"), "--outDir", outDir, ...noCheckFlag], {
  stdio: "inherit",
});
for (const dialect of ["sqlite", "postgres"]) {
  cpSync(join(root, `src/store/${dialect}/migrations`), join(outDir, `store/${dialect}/migrations`), { recursive: true });
}
chmodSync(join(outDir, "main.js"), 0o755);
console.log(`built ${outDir}`);
