// What the bench runs inside the servers' processes (the peers, the heap meter) runs compiled, like verifyd
// (`node dist/main.js`): run through tsx instead, each peer would carry about 45 MiB more resident memory and the
// loader's start-up. Type checking is `npm run typecheck`'s job; this only strips types, file by file, which takes a
// fraction of a second.
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import ts from "typescript";
import { repoRoot } from "./server-process.js";

/**
 * Writes bench/<dir>/*.ts as .js into outDir, which must be inside the repository: there the scripts find the
 * packages and package.json's "type": "module". Returns outDir.
 */
export function compileScripts(dir: "peers" | "in-server", outDir: string): string {
  const sourceDir = join(repoRoot, "bench", dir);
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  for (const file of readdirSync(sourceDir).filter((name) => name.endsWith(".ts"))) {
    const { outputText } = ts.transpileModule(readFileSync(join(sourceDir, file), "utf8"), {
      compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true },
      fileName: file,
    });
    writeFileSync(join(outDir, file.replace(/\.ts$/, ".js")), outputText);
  }
  return outDir;
}
