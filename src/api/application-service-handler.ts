// ApplicationService: an organization's Kii applications, each an app id and an app key that act for the
// organization's users. The key is answered once, by CreateApplication, and stored only as its SHA-256.
import type { MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import type { Application, ApplicationStore } from "../domain/applications/application.js";
import type { IssuedAccessToken } from "../domain/credentials/access-token.js";
import { errors } from "../domain/errors.js";
import type { Clock, OrganizationStore } from "../domain/ports.js";
import { nameProblem } from "../domain/users/account-text.js";
import type { ApplicationSchema, ApplicationService } from "../gen/verifyd/apps/v1/application_service_pb.js";
import { authorizeInOrganization, authorizeOnApplication, callerOf } from "./authorization.js";
import type { SecurityRecorder } from "./security-recorder.js";
import { requestIdIn } from "./request-context.js";

export interface ApplicationServiceDeps {
  applications: ApplicationStore;
  organizations: Pick<OrganizationStore, "find">;
  /** A fresh app id; it may clash with an existing one, which is then drawn again. */
  newApplicationId(): string;
  /** The app key and its hash. */
  issueKey(): IssuedAccessToken;
  clock: Clock;
  recordSecurityEvent: SecurityRecorder;
}

/**
 * Ids clash about once in 2^32 draws per existing app, so a handful of clashes in a row means a broken generator, not
 * bad luck: better an Internal error than a loop.
 */
const idDraws = 5;

export function createApplicationServiceHandler(deps: ApplicationServiceDeps): ServiceImpl<typeof ApplicationService> {
  const existingOrganization = async (organizationId: string) => {
    if (!(await deps.organizations.find(organizationId))) throw errors.organizationNotFound();
  };

  const addWithFreshId = async (organizationId: string, name: string, keyHash: string): Promise<Application> => {
    for (let draw = 0; draw < idDraws; draw++) {
      const application = { id: deps.newApplicationId(), organizationId, name, createdAt: deps.clock.now() };
      if (await deps.applications.add(application, keyHash)) return application;
    }
    throw new Error(`no free application id in ${idDraws} draws`);
  };

  const recordChange = (ctx: HandlerContext, kind: "application.created" | "application.removed", application: Application) =>
    deps.recordSecurityEvent({
      kind,
      actorId: callerOf(ctx).userId,
      organizationId: application.organizationId,
      detail: { appId: application.id, organizationId: application.organizationId },
    }, requestIdIn(ctx.values));

  return {
    async createApplication(req, ctx) {
      authorizeInOrganization(ctx, req.organizationId);
      await existingOrganization(req.organizationId);
      const problem = nameProblem(req.name);
      if (problem) throw errors.textInvalid("name", problem);
      const { token: appKey, tokenHash } = deps.issueKey();
      const application = await addWithFreshId(req.organizationId, req.name, tokenHash);
      await recordChange(ctx, "application.created", application);
      return { application: toWireApplication(application), appKey };
    },

    async listApplications(req, ctx) {
      authorizeInOrganization(ctx, req.organizationId);
      await existingOrganization(req.organizationId);
      const applications = await deps.applications.list(req.organizationId);
      return { result: applications.map(toWireApplication) };
    },

    async deleteApplication(req, ctx) {
      const application = await deps.applications.find(req.appId);
      if (!application) throw errors.applicationNotFound();
      authorizeOnApplication(ctx, application);
      // Another call may have removed it since the lookup: that one recorded the removal.
      if (!(await deps.applications.remove(application.id))) throw errors.applicationNotFound();
      await recordChange(ctx, "application.removed", application);
      return {};
    },
  };
}

/** Never the key hash: a stored application may carry it. */
function toWireApplication({ id, organizationId, name, createdAt }: Application): MessageInitShape<typeof ApplicationSchema> {
  return { appId: id, organizationId, name, creationDate: timestampFromDate(createdAt) };
}
