// The code names the access line and the call metrics use: Connect's spelling for every gRPC code, and a number for
// a code gRPC does not define, rather than a crash.
import { Code } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { codeName } from "../../src/api/code-names.js";

describe("codeName", () => {
  it("spells every gRPC code as Connect does, the same every time", () => {
    expect(codeName(Code.InvalidArgument)).toBe("invalid_argument");
    expect(codeName(Code.DeadlineExceeded)).toBe("deadline_exceeded");
    expect(codeName(Code.Unauthenticated)).toBe("unauthenticated");
    expect(codeName(Code.InvalidArgument)).toBe("invalid_argument");
  });

  it("names a code gRPC does not define by its number", () => {
    expect(codeName(99 as Code)).toBe("99");
  });
});
