import { describe, expect, it } from "vitest";
import { flagGiven } from "../../src/gc-settings.js";

describe("verifyd's garbage collector settings", () => {
  it("are verifyd's own unless node was started with the flag", () => {
    expect(flagGiven("--heap-growing-percent", [], undefined)).toBe(false);
    expect(flagGiven("--heap-growing-percent", ["--enable-source-maps"], "--max-old-space-size=512")).toBe(false);
    expect(flagGiven("--allocation-site-pretenuring", ["--heap-growing-percent=50"], undefined)).toBe(false);
  });

  it("keep an operator's, given on node's command line or in NODE_OPTIONS, in any spelling", () => {
    expect(flagGiven("--heap-growing-percent", ["--heap-growing-percent=50"], undefined)).toBe(true);
    expect(flagGiven("--heap-growing-percent", [], "--max-old-space-size=512 --heap_growing_percent=50")).toBe(true);
    expect(flagGiven("--heap-growing-percent", ["--heap-growing-percent", "50"], "")).toBe(true);
    expect(flagGiven("--allocation-site-pretenuring", ["--allocation-site-pretenuring"], undefined)).toBe(true);
    expect(flagGiven("--allocation-site-pretenuring", [], "--no-allocation_site_pretenuring")).toBe(true);
  });
});
