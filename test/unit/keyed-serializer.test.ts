import { describe, expect, it } from "vitest";
import { KeyedSerializer } from "../../src/domain/keyed-serializer.js";

/** A promise the test settles by hand. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

describe("KeyedSerializer", () => {
  it("runs the tasks of one key one after another, in the order they came", async () => {
    const serializer = new KeyedSerializer();
    const first = gate();
    const log: string[] = [];
    const a = serializer.run("user-1", async () => {
      log.push("a starts");
      await first.opened;
      log.push("a ends");
    });
    const b = serializer.run("user-1", async () => void log.push("b runs"));
    await new Promise((resolve) => setImmediate(resolve));
    expect(log).toEqual(["a starts"]);
    first.open();
    await Promise.all([a, b]);
    expect(log).toEqual(["a starts", "a ends", "b runs"]);
  });

  it("runs tasks of different keys concurrently", async () => {
    const serializer = new KeyedSerializer();
    const blocked = gate();
    const slow = serializer.run("user-1", () => blocked.opened.then(() => "slow"));
    await expect(serializer.run("user-2", async () => "fast")).resolves.toBe("fast");
    blocked.open();
    await expect(slow).resolves.toBe("slow");
  });

  it("reports a failed task to its caller only; the next task of the key still runs", async () => {
    const serializer = new KeyedSerializer();
    const failing = serializer.run("user-1", async () => {
      throw new Error("boom");
    });
    const next = serializer.run("user-1", async () => "next");
    await expect(failing).rejects.toThrow("boom");
    await expect(next).resolves.toBe("next");
  });

  it("forgets a key once its queue is empty, so memory follows the keys in use", async () => {
    const serializer = new KeyedSerializer();
    const blocked = gate();
    const tasks = [
      serializer.run("user-1", () => blocked.opened),
      serializer.run("user-1", async () => undefined),
      serializer.run("user-2", async () => {
        throw new Error("boom");
      }),
    ];
    expect(serializer.activeKeys).toBe(2);
    blocked.open();
    await Promise.allSettled(tasks);
    await new Promise((resolve) => setImmediate(resolve));
    expect(serializer.activeKeys).toBe(0);
  });
});
