// App ids are drawn at random and may clash: CreateApplication draws again, a few times, and never overwrites.
import { Code, ConnectError, createClient, createRouterTransport } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { createApplicationServiceHandler } from "../../src/api/application-service-handler.js";
import { principalKey } from "../../src/api/request-context.js";
import type { Application, ApplicationStore } from "../../src/domain/applications/application.js";
import { ApplicationService } from "../../src/gen/verifyd/apps/v1/application_service_pb.js";

const at = new Date(Date.UTC(2026, 0, 1));

function memoryStore(existing: Application[]): ApplicationStore & { ids(): string[] } {
  const stored = new Map(existing.map((application) => [application.id, { ...application, keyHash: "existing" }]));
  return {
    async add(application, keyHash) {
      if (stored.has(application.id)) return false;
      stored.set(application.id, { ...application, keyHash });
      return true;
    },
    async find(id) {
      return stored.get(id);
    },
    async list(organizationId) {
      return [...stored.values()].filter((application) => application.organizationId === organizationId);
    },
    async remove(id) {
      return stored.delete(id);
    },
    ids: () => [...stored.keys()],
  };
}

const instanceOwner = { userId: "admin", organizationId: "o1", instanceRoles: ["IAM_OWNER" as const], organizationRoles: new Map() };

/** A client of the handler, called by an IAM_OWNER, with app ids drawn from `draws` in turn. */
function clientDrawing(draws: string[], store: ApplicationStore) {
  let drawn = 0;
  const handler = createApplicationServiceHandler({
    applications: store,
    organizations: { find: async (id) => ({ id, name: id, createdAt: at }) },
    newApplicationId: () => draws[drawn++ % draws.length]!,
    issueKey: () => ({ token: "key", tokenHash: "hash" }),
    clock: { now: () => at },
    recordSecurityEvent: async () => undefined,
  });
  const transport = createRouterTransport((router) => router.service(ApplicationService, handler), {
    router: {
      interceptors: [
        (next) => (req) => {
          req.contextValues.set(principalKey, instanceOwner);
          return next(req);
        },
      ],
    },
  });
  return { client: createClient(ApplicationService, transport), draws: () => drawn };
}

const taken = (id: string): Application => ({ id, organizationId: "o1", name: "Taken", createdAt: at });

describe("CreateApplication's app id", () => {
  it("is drawn again while it clashes with an existing application's", async () => {
    const store = memoryStore([taken("aaaaaaaa"), taken("bbbbbbbb")]);
    const { client, draws } = clientDrawing(["aaaaaaaa", "bbbbbbbb", "cccccccc"], store);
    const { application } = await client.createApplication({ organizationId: "o1", name: "New" });
    expect(application?.appId).toBe("cccccccc");
    expect(draws()).toBe(3);
    expect((await store.find("aaaaaaaa"))?.keyHash).toBe("existing");
  });

  it("gives up with Internal after a few clashes in a row, adding nothing", async () => {
    const store = memoryStore([taken("aaaaaaaa")]);
    const { client, draws } = clientDrawing(["aaaaaaaa"], store);
    const error = await client.createApplication({ organizationId: "o1", name: "New" }).then(
      () => undefined,
      (reason: unknown) => ConnectError.from(reason),
    );
    expect(error?.code).toBe(Code.Internal);
    expect(draws()).toBe(5);
    expect(store.ids()).toEqual(["aaaaaaaa"]);
  });
});
