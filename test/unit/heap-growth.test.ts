import { describe, expect, it } from "vitest";
import { heapGrowthGiven } from "../../src/heap-growth.js";

describe("the heap's growth limit", () => {
  it("is verifyd's own unless node was started with one", () => {
    expect(heapGrowthGiven([], undefined)).toBe(false);
    expect(heapGrowthGiven(["--enable-source-maps"], "--max-old-space-size=512")).toBe(false);
  });

  it("keeps an operator's, given on node's command line or in NODE_OPTIONS, in either spelling", () => {
    expect(heapGrowthGiven(["--heap-growing-percent=50"], undefined)).toBe(true);
    expect(heapGrowthGiven([], "--max-old-space-size=512 --heap_growing_percent=50")).toBe(true);
    expect(heapGrowthGiven(["--heap-growing-percent", "50"], "")).toBe(true);
  });
});
