// The version of package.json, read beside the code at run time: one directory up from src/ and from dist/ alike, so
// `npm start` and the compiled build report the same. Read once: the server names it in its log and its metrics. A
// build copied without its package.json (the bench's) reports "unknown" rather than failing to start.
import { readFileSync } from "node:fs";
import { join } from "node:path";

let version: string | undefined;

export function packageVersion(): string {
  version ??= readVersion();
  return version;
}

function readVersion(): string {
  try {
    return (JSON.parse(readFileSync(join(import.meta.dirname, "..", "package.json"), "utf8")) as { version: string }).version;
  } catch {
    return "unknown";
  }
}
