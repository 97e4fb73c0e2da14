// Validates every request against the buf.validate rules declared next to the fields in the contract, for every
// RPC and protocol alike. A violation is InvalidArgument with a google.rpc.BadRequest naming each field and rule,
// and the buf.validate.Violations beside it for clients that read protovalidate's own format.
import { violationsToProto } from "@bufbuild/protovalidate";
import { createValidator } from "@bufbuild/protovalidate";
import { pathToString } from "@bufbuild/protobuf/reflect";
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { BadRequestSchema } from "../../gen/google/rpc/error_details_pb.js";

export function createValidationInterceptor(): Interceptor {
  const validator = createValidator();
  return (next) => async (req) => {
    if (req.stream) return next(req);
    const result = validator.validate(req.method.input, req.message);
    if (result.kind === "valid") return next(req);
    if (result.kind === "error") throw new ConnectError("request validation failed", Code.Internal, undefined, undefined, result.error);
    const violations = result.error.violations;
    const fieldViolations = violations.map((violation) => ({
      field: pathToString(violation.field),
      description: violation.message,
      reason: violation.ruleId,
    }));
    const summary = fieldViolations
      .map(({ field, description }) => (field ? `${field}: ${description}` : description))
      .join("; ");
    const [violationsMessage, violationsSchema] = violationsToProto(violations);
    throw new ConnectError(`invalid ${req.method.input.name}: ${summary}`, Code.InvalidArgument, undefined, [
      { desc: BadRequestSchema, value: { fieldViolations } },
      { desc: violationsSchema, value: violationsMessage },
    ]);
  };
}
