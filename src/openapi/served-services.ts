// The services server.ts serves, for building the checked-in openapi.json without starting a server. The e2e test
// compares the document the server builds from its own list with the checked-in one, so the two lists cannot drift.
import type { DescService } from "@bufbuild/protobuf";
import { ApplicationService } from "../gen/verifyd/apps/v1/application_service_pb.js";
import { SecurityLogService } from "../gen/verifyd/security/v1/security_log_service_pb.js";
import { VerificationSettingsService } from "../gen/verifyd/settings/v1/verification_settings_service_pb.js";
import { Health } from "../gen/grpc/health/v1/health_pb.js";
import { InternalPermissionService } from "../gen/zitadel/internal_permission/v2beta/internal_permission_service_pb.js";
import { OrganizationService } from "../gen/zitadel/org/v2/org_service_pb.js";
import { UserService } from "../gen/zitadel/user/v2/user_service_pb.js";

export const servedServices: readonly DescService[] = [
  UserService,
  OrganizationService,
  InternalPermissionService,
  SecurityLogService,
  VerificationSettingsService,
  ApplicationService,
  Health,
];
