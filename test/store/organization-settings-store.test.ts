// Organizations' verification settings against each dialect: defaults until set, read back exactly, codes kept only
// sealed, and only for organizations that exist.
import { describe, expect, it } from "vitest";
import {
  type VerificationSettings,
  defaultVerificationSettings,
} from "../../src/domain/organizations/verification-settings.js";
import type { Dialect } from "../../src/store/stores.js";
import { dialects, openStoreHarness } from "./support/store-harness.js";
import { userAdded } from "./support/user-changes.js";

const at = (minute: number) => new Date(Date.UTC(2026, 0, 1, 12, minute));

const settings: VerificationSettings = {
  limits: { sendsPerCallerHour: 20, sendCooldownMs: 30_000 },
  phoneCountries: { mode: "allow", callingCodes: ["41", "49"] },
  testContacts: [
    { channel: "phone", value: "+41791234567", sealedCode: { keyId: "1", sealed: new Uint8Array([0, 1, 2, 254, 255]) } },
    { channel: "email", value: "review@example.com", sealedCode: { keyId: "2", sealed: new Uint8Array([9, 8, 7]) } },
  ],
};

async function storeWithOrganizations(dialect: Dialect, ...ids: string[]) {
  const harness = await openStoreHarness(dialect);
  for (const id of ids) await harness.stores.organizations.add({ id, name: id, createdAt: at(0) });
  return { ...harness, store: harness.stores.organizationSettings };
}

/** SQLite's error says so itself; PostgreSQL's comes wrapped in drizzle's, which names the query. */
const violatesForeignKey = (error: unknown) =>
  /foreign key/i.test(`${(error as Error).message} ${((error as Error).cause as Error | undefined)?.message}`);

describe.each(dialects)("%s organization settings store", (dialect) => {
  it("answers the defaults for an organization that never set any, and for an unknown one", async () => {
    const { store } = await storeWithOrganizations(dialect, "acme");
    expect(await store.verificationSettings("acme")).toEqual(defaultVerificationSettings);
    expect(await store.verificationSettings("nobody")).toEqual(defaultVerificationSettings);
    expect(await store.organizationsWithTestContacts()).toEqual([]);
  });

  it("reads back what was set, sealed codes byte for byte, and replaces it on the next set", async () => {
    const { store } = await storeWithOrganizations(dialect, "acme", "beta");
    await store.setVerificationSettings("acme", settings, at(1));
    expect(await store.verificationSettings("acme")).toEqual(settings);
    expect(await store.verificationSettings("beta")).toEqual(defaultVerificationSettings);

    const replaced: VerificationSettings = { limits: {}, phoneCountries: { mode: "deny", callingCodes: ["1"] }, testContacts: [] };
    await store.setVerificationSettings("acme", replaced, at(2));
    expect(await store.verificationSettings("acme")).toEqual(replaced);
  });

  it("keeps codes only sealed, as base64, and records when the settings changed", async () => {
    const { store, rows } = await storeWithOrganizations(dialect, "acme");
    await store.setVerificationSettings("acme", settings, at(3));
    // SQLite keeps JSON text and milliseconds, PostgreSQL jsonb (parsed by the driver) and timestamptz (a Date).
    const [row] = await rows<{ verification: unknown; changed_at: number | Date }>("SELECT verification, changed_at FROM organization_settings");
    expect(new Date(row?.changed_at ?? 0)).toEqual(at(3));
    const verification = typeof row?.verification === "string" ? JSON.parse(row.verification) : row?.verification;
    expect(verification.testContacts).toEqual([
      { channel: "phone", value: "+41791234567", keyId: "1", sealedCode: "AAEC/v8=" },
      { channel: "email", value: "review@example.com", keyId: "2", sealedCode: "CQgH" },
    ]);
  });

  it("lists the organizations that have test contacts, and only those", async () => {
    const { store } = await storeWithOrganizations(dialect, "acme", "beta", "gamma");
    await store.setVerificationSettings("gamma", settings, at(1));
    await store.setVerificationSettings("beta", { ...settings, testContacts: [] }, at(1));
    await store.setVerificationSettings("acme", { ...settings, testContacts: settings.testContacts.slice(1) }, at(1));
    expect(await store.organizationsWithTestContacts()).toEqual([
      { organizationId: "acme", testContacts: settings.testContacts.slice(1) },
      { organizationId: "gamma", testContacts: settings.testContacts },
    ]);
  });

  it("refuses settings for an organization that does not exist", async () => {
    const { store } = await storeWithOrganizations(dialect);
    await expect(store.setVerificationSettings("nobody", settings, at(1))).rejects.toSatisfy(violatesForeignKey);
  });

  it("gives a user's organization's settings as of the read that loaded the user, and reads them for any other state", async () => {
    const { stores, reopen } = await storeWithOrganizations(dialect, "acme");
    await stores.users.append(userAdded("ada", "ada", "acme"));
    const settingsOf = stores.organizationSettings;
    const loaded = async () => (await stores.users.load("ada"))!;

    const before = await loaded();
    expect(await settingsOf.settingsReadWith(before)).toEqual(defaultVerificationSettings);

    const otherProcess = await reopen();
    await otherProcess.stores.organizationSettings.setVerificationSettings("acme", settings, at(4));
    const after = await loaded();
    expect(await settingsOf.settingsReadWith(after)).toEqual(settings);
    // The state loaded before the change keeps the settings read with it: a decision on it is decided as of that read.
    expect(await settingsOf.settingsReadWith(before)).toEqual(defaultVerificationSettings);

    const replaced: VerificationSettings = { limits: { sendsPerDestinationShort: 1 }, phoneCountries: { mode: "all" }, testContacts: [] };
    await settingsOf.setVerificationSettings("acme", replaced, at(5));
    expect(await settingsOf.settingsReadWith(await loaded())).toEqual(replaced);
    expect(await settingsOf.settingsReadWith({ ...before })).toEqual(replaced);
  });
});
