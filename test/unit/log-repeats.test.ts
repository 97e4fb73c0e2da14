// A flood of one thing in few lines: the first occurrence told at once, the repeats of an interval told in one line
// at its end, a key that stops repeating forgotten, and the keys counted at once bounded.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { coalesceRepeats } from "../../src/log-repeats.js";

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

function recorder(maxKeys = 10) {
  const told: [string, number][] = [];
  let overflowed = 0;
  const occur = coalesceRepeats<string>((payload, occurrences) => told.push([payload, occurrences]), {
    intervalMs: 60_000,
    maxKeys,
    overflow: () => void (overflowed += 1),
  });
  return { told, occur, overflowed: () => overflowed };
}

describe("repeats told together", () => {
  it("tells the first occurrence at once and its repeats in one line, with the latest payload, when the interval ends", () => {
    const { told, occur } = recorder();
    occur("a", "a#1");
    for (let n = 2; n <= 1_000; n++) occur("a", `a#${n}`);
    expect(told).toEqual([["a#1", 1]]);
    vi.advanceTimersByTime(60_000);
    expect(told).toEqual([
      ["a#1", 1],
      ["a#1000", 999],
    ]);
  });

  it("keeps a flood at one line per interval, and tells a key at once again after an interval without it", () => {
    const { told, occur } = recorder();
    occur("a", "first");
    for (let minute = 0; minute < 3; minute++) {
      occur("a", `repeat ${minute}`);
      vi.advanceTimersByTime(60_000);
    }
    expect(told).toEqual([
      ["first", 1],
      ["repeat 0", 1],
      ["repeat 1", 1],
      ["repeat 2", 1],
    ]);
    vi.advanceTimersByTime(60_000);
    occur("a", "after a quiet minute");
    expect(told.at(-1)).toEqual(["after a quiet minute", 1]);
  });

  it("tells each key apart", () => {
    const { told, occur } = recorder();
    occur("a", "a");
    occur("b", "b");
    occur("a", "a again");
    vi.advanceTimersByTime(60_000);
    expect(told).toEqual([
      ["a", 1],
      ["b", 1],
      ["a again", 1],
    ]);
  });

  it("counts at most maxKeys keys at once, and hands the occurrences of further keys to overflow", () => {
    const { told, occur, overflowed } = recorder(2);
    for (const key of ["a", "b", "c", "d", "a"]) occur(key, key);
    expect(told).toEqual([
      ["a", 1],
      ["b", 1],
    ]);
    expect(overflowed()).toBe(2);
    vi.advanceTimersByTime(120_000);
    occur("c", "c");
    expect(told.at(-1)).toEqual(["c", 1]);
  });
});
