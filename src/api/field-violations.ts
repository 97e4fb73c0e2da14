// Rules a handler checks on fields beyond what the contract can declare (a code the numbering plan knows, a contact
// listed twice), answered the way the validation interceptor answers declared ones: InvalidArgument with a
// google.rpc.BadRequest naming each field, so a client reads every refusal of a request the same way.
import { Code, ConnectError } from "@connectrpc/connect";
import { BadRequestSchema } from "../gen/google/rpc/error_details_pb.js";

export interface FieldViolation {
  /** The field's path with proto names, as protovalidate writes it: "test_contacts[1].phone". */
  field: string;
  description: string;
  /** A stable id: the domain error's reason, or a rule id such as "calling_code.known". */
  reason: string;
}

/** Throws when there is any violation, naming all of them. */
export function refuseFieldViolations(messageName: string, violations: readonly FieldViolation[]): void {
  if (violations.length === 0) return;
  const summary = violations.map(({ field, description }) => `${field}: ${description}`).join("; ");
  throw new ConnectError(`invalid ${messageName}: ${summary}`, Code.InvalidArgument, undefined, [
    { desc: BadRequestSchema, value: { fieldViolations: violations.map((violation) => ({ ...violation })) } },
  ]);
}
