// The test-only protos under test/proto, compiled at test time with the buf CLI and loaded as a registry of dynamic
// descriptors, so REST tests run against services no generated code knows about.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { type FileRegistry, createFileRegistry, fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";

const projectRoot = join(import.meta.dirname, "..", "..");

// test/proto imports google/api/annotations.proto from third_party/, which is not part of the contract's build.
const workspace = JSON.stringify({ version: "v2", modules: [{ path: "test/proto" }, { path: "third_party" }] });

let registry: FileRegistry | undefined;

export function testProtoRegistry(): FileRegistry {
  if (registry) return registry;
  if (!existsSync(join(projectRoot, "third_party/google/api/annotations.proto"))) {
    throw new Error("third_party/ is empty: run `npm run protos:deps` first");
  }
  const bytes = execFileSync(
    join(projectRoot, "node_modules/.bin/buf"),
    ["build", "test/proto", "--config", workspace, "--as-file-descriptor-set", "--exclude-source-info", "-o", "-"],
    { cwd: projectRoot, maxBuffer: 16 * 1024 * 1024 },
  );
  registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, bytes));
  return registry;
}
