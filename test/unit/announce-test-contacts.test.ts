// What the start-up log says about organizations' test contacts: their values when honoured (never a code), one
// warning when they exist but are ignored, nothing when there are none.
import { describe, expect, it } from "vitest";
import { announceTestContacts } from "../../src/bootstrap/announce-test-contacts.js";
import type { TestContact } from "../../src/domain/organizations/verification-settings.js";
import type { Logger } from "../../src/logger.js";

const sealedCode = { keyId: "1", sealed: new Uint8Array([1, 2, 3]) };
const organizations = [
  {
    organizationId: "acme",
    testContacts: [
      { channel: "phone", value: "+41790000001", sealedCode },
      { channel: "email", value: "review@example.com", sealedCode },
    ] satisfies TestContact[],
  },
  { organizationId: "beta", testContacts: [{ channel: "email", value: "e2e@beta.example", sealedCode }] satisfies TestContact[] },
];

function recordingLogger() {
  const lines: { level: string; message: string; fields?: Record<string, unknown> }[] = [];
  const at = (level: string) => (message: string, fields?: Record<string, unknown>) => void lines.push({ level, message, ...(fields ? { fields } : {}) });
  const logger: Logger = { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
  return { logger, lines };
}

const store = (listed: typeof organizations) => ({ organizationsWithTestContacts: async () => listed });

describe("announceTestContacts", () => {
  it("lists each organization's test contacts when they are honoured", async () => {
    const { logger, lines } = recordingLogger();
    await announceTestContacts(store(organizations), true, logger);
    expect(lines).toEqual([
      { level: "info", message: expect.any(String), fields: { organizationId: "acme", testContacts: ["+41790000001", "review@example.com"] } },
      { level: "info", message: expect.any(String), fields: { organizationId: "beta", testContacts: ["e2e@beta.example"] } },
    ]);
    expect(JSON.stringify(lines)).not.toContain("sealed");
  });

  it("warns once, naming the organizations, when they exist but are ignored", async () => {
    const { logger, lines } = recordingLogger();
    await announceTestContacts(store(organizations), false, logger);
    expect(lines).toEqual([{ level: "warn", message: expect.stringContaining("--test-contacts"), fields: { organizationIds: ["acme", "beta"] } }]);
  });

  it("says nothing when no organization has any", async () => {
    for (const honoured of [true, false]) {
      const { logger, lines } = recordingLogger();
      await announceTestContacts(store([]), honoured, logger);
      expect(lines).toEqual([]);
    }
  });
});
