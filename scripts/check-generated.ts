// Fails when src/gen/ differs from what `npm run generate` produces now: the committed code must match the contract.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";

const root = join(import.meta.dirname, "..");
const committed = join(root, "src/gen");
const scratch = mkdtempSync(join(tmpdir(), "verifyd-gen-"));
try {
  execFileSync("npm", ["run", "--silent", "protos:deps"], { cwd: root, stdio: "inherit" });
  execFileSync("npx", ["buf", "generate", "--output", scratch], { cwd: root, stdio: "inherit" });
  const fresh = join(scratch, "src/gen");
  const differences = compareTrees(committed, fresh);
  if (differences.length > 0) {
    console.error(`src/gen/ is stale; run 'npm run generate' and commit. Differences:\n  ${differences.join("\n  ")}`);
    process.exit(1);
  }
  console.log("src/gen/ matches the contract");
} finally {
  rmSync(scratch, { recursive: true, force: true });
}

function compareTrees(left: string, right: string): string[] {
  const leftFiles = listFiles(left);
  const rightFiles = listFiles(right);
  const all = [...new Set([...leftFiles, ...rightFiles])].sort();
  return all.filter((file) => {
    if (!leftFiles.includes(file) || !rightFiles.includes(file)) return true;
    return !readFileSync(join(left, file)).equals(readFileSync(join(right, file)));
  });
}

function listFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)));
}
