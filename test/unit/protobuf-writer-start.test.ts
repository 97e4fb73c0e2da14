// Writers that start in V8's heap encode every message to the same bytes as protobuf-es's own start: small messages,
// ones that outgrow the first buffer, nested ones, and a writer used again after finish().
import { create, toBinary } from "@bufbuild/protobuf";
import { BinaryWriter } from "@bufbuild/protobuf/wire";
import { anyPack, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import { ErrorInfoSchema } from "../../src/gen/google/rpc/error_details_pb.js";
import { StatusSchema } from "../../src/gen/google/rpc/status_pb.js";
import { VerifyPhoneResponseSchema } from "../../src/gen/zitadel/user/v2/user_service_pb.js";
import { startProtobufWritersInHeap } from "../../src/protobuf-writer-start.js";

const details = { sequence: 12n, changeDate: timestampFromDate(new Date("2026-11-27T08:00:00.123Z")), resourceOwner: "913491089656786039" };
const messages = [
  () => toBinary(VerifyPhoneResponseSchema, create(VerifyPhoneResponseSchema, { details })),
  () => toBinary(VerifyPhoneResponseSchema, create(VerifyPhoneResponseSchema, {})),
  () =>
    toBinary(
      StatusSchema,
      create(StatusSchema, {
        code: 3,
        message: "The verification code is invalid (COMMAND-eis9R)".repeat(3),
        details: [anyPack(ErrorInfoSchema, create(ErrorInfoSchema, { reason: "INVALID_VERIFICATION_CODE", domain: "verifyd", metadata: { attemptsLeft: "4" } }))],
      }),
    ),
  () => {
    const writer = new BinaryWriter();
    const first = writer.uint32(8).int64(-1n).finish();
    const second = writer.uint32(17).fixed64(2n ** 63n).double(0.1).string("x".repeat(100)).finish();
    return new Uint8Array([...first, ...second]);
  },
];

describe("protobuf writers that start in V8's heap", () => {
  it("encode every message as protobuf-es's own writers do", () => {
    const expected = messages.map((encode) => encode());
    startProtobufWritersInHeap();
    const actual = messages.map((encode) => encode());
    expect(actual).toEqual(expected);
    expect(actual[0]?.byteLength).toBeLessThanOrEqual(64);
    expect(actual[2]?.byteLength).toBeGreaterThan(128);
  });

  it("start a small message's writer in 64 bytes", () => {
    startProtobufWritersInHeap();
    const writer = new BinaryWriter().uint32(8);
    expect((writer as unknown as { buffer: Uint8Array }).buffer.byteLength).toBe(64);
  });
});
