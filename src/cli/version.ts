// The version of package.json, read beside the code at run time: two directories up from src/cli/ and from
// dist/cli/ alike, so `npm start` and the compiled build report the same.
import { readFileSync } from "node:fs";
import { join } from "node:path";

export function packageVersion(): string {
  const manifest = JSON.parse(readFileSync(join(import.meta.dirname, "..", "..", "package.json"), "utf8")) as { version: string };
  return manifest.version;
}
