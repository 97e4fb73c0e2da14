// SecurityLogService: the security log, read by the instance's owners only, since it covers every organization.
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import type { Clock } from "../domain/ports.js";
import type { SecurityEvent, SecurityEventKind } from "../domain/security/security-event.js";
import type { SecurityLogReader } from "../domain/security/security-log-query.js";
import type { SecurityLogService } from "../gen/verifyd/security/v1/security_log_service_pb.js";
import { authorizeOnInstance } from "./authorization.js";
import { toListDetails, toPage } from "./list-mapping.js";

export interface SecurityLogHandlerDeps {
  log: SecurityLogReader;
  clock: Clock;
}

export function createSecurityLogHandler(deps: SecurityLogHandlerDeps): ServiceImpl<typeof SecurityLogService> {
  return {
    async listSecurityEvents(req, ctx) {
      authorizeOnInstance(ctx);
      const page = await deps.log.list({
        ...toPage(req.query),
        ...(req.userId === undefined ? {} : { userId: req.userId }),
        ...(req.actorId === undefined ? {} : { actorId: req.actorId }),
        ...(req.organizationId === undefined ? {} : { organizationId: req.organizationId }),
        // Validation admits the known kinds only (the contract lists them; a test keeps the list in step).
        kinds: req.kinds as SecurityEventKind[],
      });
      return { details: toListDetails(page.total, deps.clock.now()), result: page.events.map(toWireEvent) };
    },
  };
}

const maxUint32 = 0xffff_ffff;

function toWireEvent(event: SecurityEvent) {
  return {
    id: event.id,
    kind: event.kind,
    firstOccurred: timestampFromDate(event.at),
    lastOccurred: timestampFromDate(event.lastAt),
    // A flood that never pauses for a minute keeps counting on one entry; the wire's uint32 tops out.
    count: Math.min(event.count, maxUint32),
    actorId: event.actorId ?? "",
    clientAddress: event.clientAddress ?? "",
    userId: event.userId ?? "",
    organizationId: event.organizationId ?? "",
    detail: { ...event.detail },
  };
}
