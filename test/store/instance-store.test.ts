// The instance row and the lock bootstrapping runs under, against each dialect: bootstrapped once, by one
// administrator, and `exclusively` keeps a second connection (another process) waiting until the first is done.
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import type { InstanceStore } from "../../src/bootstrap/bootstrap-instance.js";
import { dialects, openStoreHarness } from "./support/store-harness.js";

const at = (minute: number) => new Date(Date.UTC(2026, 0, 1, 12, minute));

describe.each(dialects)("%s instance store", (dialect) => {
  it("is bootstrapped once, and knows its administrator from then on", async () => {
    const { stores, rows } = await openStoreHarness(dialect);
    expect(await stores.instance.isBootstrapped()).toBe(false);
    expect(await stores.instance.administratorId()).toBeUndefined();

    await stores.instance.markBootstrapped("admin-1", at(0));
    expect(await stores.instance.isBootstrapped()).toBe(true);
    expect(await stores.instance.administratorId()).toBe("admin-1");
    await expect(stores.instance.markBootstrapped("admin-2", at(1))).rejects.toThrow();
    expect(await stores.instance.administratorId()).toBe("admin-1");
    const [row] = await rows<{ bootstrapped_at: number | Date }>("SELECT bootstrapped_at FROM instance");
    expect(new Date(row?.bootstrapped_at ?? 0)).toEqual(at(0));
  });

  it("answers what the work answers, and lets the next connection in after the work failed", async () => {
    const one = await openStoreHarness(dialect);
    const two = await one.reopen();
    expect(await one.stores.instance.exclusively(async () => "done")).toBe("done");
    await expect(
      one.stores.instance.exclusively(async () => {
        throw new Error("work failed");
      }),
    ).rejects.toThrow("work failed");
    expect(await two.stores.instance.exclusively(async () => "after")).toBe("after");
    expect(await one.stores.instance.exclusively(async () => "again")).toBe("again");
  });
});

// SQLite's lock is BEGIN IMMEDIATE, which waits synchronously: a second connection in this process would block the
// event loop the first one's work needs (processes on one file: test/e2e/bootstrap.test.ts). PostgreSQL waits without
// blocking it.
describe("postgres instance store across connections", () => {
  it("runs two connections' work one after the other, the second seeing what the first wrote", async () => {
    const one = await openStoreHarness("postgres");
    const two = await one.reopen();
    const steps: string[] = [];
    const bootstrap = (instance: InstanceStore, name: string) =>
      instance.exclusively(async () => {
        steps.push(`${name} starts`);
        if (await instance.isBootstrapped()) {
          steps.push(`${name} finds it done`);
          return instance.administratorId();
        }
        // Time for the other connection to reach its lock, were it not held.
        await sleep(200);
        await instance.markBootstrapped(name, at(0));
        steps.push(`${name} bootstrapped`);
        return name;
      });

    const [a, b] = await Promise.all([bootstrap(one.stores.instance, "one"), bootstrap(two.stores.instance, "two")]);
    expect(b).toBe(a);
    const first = steps[0]?.split(" ")[0];
    const second = first === "one" ? "two" : "one";
    expect(steps).toEqual([`${first} starts`, `${first} bootstrapped`, `${second} starts`, `${second} finds it done`]);
    expect(await one.count("instance")).toBe(1);
  });
});
