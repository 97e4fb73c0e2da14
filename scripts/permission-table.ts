// Prints README.md's access table from the permission matrix the tests check (test/access/permission-matrix.ts).
import { Code } from "@connectrpc/connect";
import { type Caller, type Outcome, callers, calls, expected } from "../test/access/permission-matrix.js";

const refused: Caller[] = ["no token", "bad token", "removed token", "expired token", "disabled user"];
const signedIn = callers.filter((caller) => !refused.includes(caller));

const shown: Record<string, string> = {
  ok: "✓",
  [Code.NotFound]: "NotFound (404)",
  [Code.PermissionDenied]: "PermissionDenied (403)",
  [Code.Unauthenticated]: "Unauthenticated (401)",
};
const show = (outcome: Outcome) => shown[String(outcome)] ?? Code[outcome as Code];

export function permissionTable(): string {
  const lines = [
    `| RPC | ${refused.join(", ")} | ${signedIn.join(" | ")} |`,
    `|---|---|${signedIn.map(() => "---").join("|")}|`,
  ];
  for (const call of calls) {
    const answers = expected[call];
    // The refused callers share one column, so they must share one answer.
    const refusal = new Set(refused.map((caller) => answers[caller]));
    if (refusal.size !== 1) throw new Error(`${call}: the refused callers do not all get the same answer`);
    lines.push(`| ${call} | ${show([...refusal][0]!)} | ${signedIn.map((caller) => show(answers[caller])).join(" | ")} |`);
  }
  return lines.join("\n");
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(permissionTable());
