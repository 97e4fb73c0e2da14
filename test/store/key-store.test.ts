// The fingerprints of the keys a database was used with, against each dialect: a recorded id keeps its fingerprint,
// even when another connection (process) records another one at the same moment, and a database holds data once it
// has keys or users.
import { describe, expect, it } from "vitest";
import { dialects, openStoreHarness } from "./support/store-harness.js";
import { userAdded } from "./support/user-changes.js";

const at = (minute: number) => new Date(Date.UTC(2026, 0, 1, 12, minute));

describe.each(dialects)("%s key store", (dialect) => {
  it("records the fingerprints of new ids and keeps those of recorded ones", async () => {
    const { stores, rows } = await openStoreHarness(dialect);
    expect(await stores.keys.fingerprints()).toEqual(new Map());
    await stores.keys.record(new Map(), at(0));
    expect(await stores.keys.fingerprints()).toEqual(new Map());

    await stores.keys.record(new Map([["1", "fp-1"], ["2", "fp-2"]]), at(1));
    await stores.keys.record(new Map([["2", "other"], ["3", "fp-3"]]), at(2));
    expect(await stores.keys.fingerprints()).toEqual(new Map([["1", "fp-1"], ["2", "fp-2"], ["3", "fp-3"]]));
    const recorded = await rows<{ id: string; recorded_at: number | Date }>("SELECT id, recorded_at FROM keys ORDER BY id");
    expect(recorded.map((row) => [row.id, new Date(row.recorded_at)])).toEqual([["1", at(1)], ["2", at(1)], ["3", at(2)]]);
  });

  it("holds data once it has recorded keys", async () => {
    const { stores } = await openStoreHarness(dialect);
    expect(await stores.keys.holdsData()).toBe(false);
    await stores.keys.record(new Map([["1", "fp-1"]]), at(0));
    expect(await stores.keys.holdsData()).toBe(true);
  });

  it("holds data when it has users from before keys were recorded", async () => {
    const { stores } = await openStoreHarness(dialect);
    await stores.users.append(userAdded("u1", "ada"));
    expect(await stores.keys.holdsData()).toBe(true);
  });

  it("keeps the first of two fingerprints that connections record for one id at the same moment", async () => {
    const one = await openStoreHarness(dialect);
    const two = await one.reopen();
    await Promise.all([
      one.stores.keys.record(new Map([["1", "from-one"]]), at(0)),
      two.stores.keys.record(new Map([["1", "from-two"]]), at(0)),
    ]);
    const seen = [await one.stores.keys.fingerprints(), await two.stores.keys.fingerprints()];
    expect(seen[1]).toEqual(seen[0]);
    expect(["from-one", "from-two"]).toContain(seen[0]?.get("1"));
  });
});
