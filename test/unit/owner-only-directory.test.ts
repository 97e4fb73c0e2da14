// The directories verifyd makes for its files, on the real file system.
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { makeOwnerOnlyDirectory } from "../../src/owner-only-directory.js";

describe("makeOwnerOnlyDirectory", () => {
  const root = mkdtempSync(join(tmpdir(), "verifyd-directories-"));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it("makes the directory and its missing parents, owner-only, and takes one that exists", () => {
    const directory = join(root, "a", "b", "c");
    makeOwnerOnlyDirectory(directory);
    makeOwnerOnlyDirectory(directory);
    for (const made of [join(root, "a"), join(root, "a", "b"), directory]) {
      expect(statSync(made).isDirectory()).toBe(true);
      expect(statSync(made).mode & 0o777).toBe(0o700);
    }
  });

  it("throws mkdir's error for a file in the way, and for a parent that cannot hold a directory", () => {
    writeFileSync(join(root, "file"), "");
    expect(() => makeOwnerOnlyDirectory(join(root, "file"))).toThrow(/EEXIST/);
    expect(() => makeOwnerOnlyDirectory(join(root, "file", "below"))).toThrow(/ENOTDIR/);
    expect(() => makeOwnerOnlyDirectory("/proc/verifyd-test/below")).toThrow(/ENOENT/);
  });
});
