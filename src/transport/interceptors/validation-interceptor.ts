// Validates every request against the buf.validate rules declared next to the fields in the contract, for every
// RPC and protocol alike. A violation is InvalidArgument with a google.rpc.BadRequest naming each field and rule,
// and the buf.validate.Violations beside it for clients that read protovalidate's own format.
import { type ValidationResult, createValidator, violationsToProto } from "@bufbuild/protovalidate";
import type { DescMessage } from "@bufbuild/protobuf";
import { pathToString } from "@bufbuild/protobuf/reflect";
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { BadRequestSchema } from "../../gen/google/rpc/error_details_pb.js";

export function createValidationInterceptor(): Interceptor {
  const validator = createValidator();
  // Not an async function: a valid request goes on with the next layer's own promise rather than one more per call,
  // and a refusal is still a rejected promise, as the Interceptor type has it.
  return (next) => (req) => {
    const refusal = req.stream ? undefined : refusalOf(req.method.input, validator.validate(req.method.input, req.message));
    return refusal ? Promise.reject(refusal) : next(req);
  };
}

/** Nothing for a valid message; InvalidArgument naming every violation; Internal when a rule could not be evaluated. */
function refusalOf(input: DescMessage, result: ValidationResult): ConnectError | undefined {
  if (result.kind === "valid") return undefined;
  if (result.kind === "error") return new ConnectError("request validation failed", Code.Internal, undefined, undefined, result.error);
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
  return new ConnectError(`invalid ${input.name}: ${summary}`, Code.InvalidArgument, undefined, [
    { desc: BadRequestSchema, value: { fieldViolations } },
    { desc: violationsSchema, value: violationsMessage },
  ]);
}
