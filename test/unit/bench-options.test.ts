// The bench's command line (bench/options.ts): what a comparison runs over, and a clear refusal of what it cannot.
import { describe, expect, it } from "vitest";
import { readBenchOptions } from "../../bench/options.js";

describe("the bench's comparison options", () => {
  it("compares over gRPC unless told otherwise", () => {
    expect(readBenchOptions(["--quick", "--compare-commit=HEAD"]).compareProtocol).toBe("grpc");
  });

  it("compares over REST, beside the Fastify peer, with --compare-protocol=rest", () => {
    const options = readBenchOptions(["--quick", "--compare-commit=HEAD", "--compare-protocol=rest"]);
    expect(options.compareProtocol).toBe("rest");
    expect(options.compareCommits).toEqual(["HEAD"]);
  });

  it("refuses a protocol it has no peer for, naming the ones it takes", () => {
    expect(() => readBenchOptions(["--compare-protocol=grpc-web"])).toThrow(
      '--compare-protocol must be grpc or rest (got "grpc-web")',
    );
  });
});
