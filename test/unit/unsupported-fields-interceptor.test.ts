import { type DescMessage, create, createFileRegistry, setExtension } from "@bufbuild/protobuf";
import { FieldDescriptorProto_Label, FieldDescriptorProto_Type, FieldOptionsSchema, FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type UnaryRequest, type UnaryResponse } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { ListUsersRequestSchema, UserService } from "../../src/gen/zitadel/user/v2/user_service_pb.js";
import { unsupported } from "../../src/gen/verifyd/options/v1/options_pb.js";
import { createUnsupportedFieldsInterceptor } from "../../src/transport/interceptors/unsupported-fields-interceptor.js";

const passed = { passed: true } as unknown as UnaryResponse;
const call = createUnsupportedFieldsInterceptor()(async () => passed);

function listUsers(queries: object[]) {
  const message = create(ListUsersRequestSchema, { queries } as never);
  return call({ stream: false, method: UserService.method.listUsers, message } as unknown as UnaryRequest);
}

describe("unsupported fields", () => {
  it("finds one inside a list, and inside a list nested in a list, naming the path", async () => {
    const firstName = { query: { case: "firstNameQuery", value: { firstName: "Ada" } } };
    await expect(listUsers([firstName])).rejects.toThrow(
      new ConnectError("the field queries[0].first_name_query is not supported yet", Code.Unimplemented),
    );
    const nested = { query: { case: "orQuery", value: { queries: [{ query: { case: "userNameQuery", value: { userName: "a" } } }, firstName] } } };
    await expect(listUsers([nested])).rejects.toThrow(/queries\[0\]\.or_query\.queries\[1\]\.first_name_query/);
  });

  it("lets supported queries through", async () => {
    expect(await listUsers([{ query: { case: "userNameQuery", value: { userName: "ada" } } }])).toBe(passed);
  });

  // Outer { Inner inner = 1; string secret = 2 [unsupported]; } and Inner { Outer outer = 1; }: Inner can hold an
  // unsupported field only through Outer, which the walk meets again along the cycle.
  it("finds one behind a cycle of message types, whichever type was asked about first", async () => {
    const marked = create(FieldOptionsSchema);
    setExtension(marked, unsupported, true);
    const optional = FieldDescriptorProto_Label.OPTIONAL;
    const messageField = (name: string, typeName: string) => ({
      name,
      number: 1,
      label: optional,
      type: FieldDescriptorProto_Type.MESSAGE,
      typeName,
      jsonName: name,
    });
    const file = create(FileDescriptorProtoSchema, {
      name: "cycle.proto",
      package: "cycle",
      syntax: "proto3",
      messageType: [
        {
          name: "Outer",
          field: [
            messageField("inner", ".cycle.Inner"),
            { name: "secret", number: 2, label: optional, type: FieldDescriptorProto_Type.STRING, jsonName: "secret", options: marked },
          ],
        },
        { name: "Inner", field: [messageField("outer", ".cycle.Outer")] },
      ],
    });
    const registry = createFileRegistry(file, () => undefined);
    const outer = registry.getMessage("cycle.Outer") as DescMessage;
    const fresh = createUnsupportedFieldsInterceptor()(async () => passed);
    const message = create(outer, { inner: { outer: { secret: "s" } } } as never);
    await expect(fresh({ stream: false, method: { input: outer }, message } as unknown as UnaryRequest)).rejects.toThrow(
      /inner\.outer\.secret/,
    );
  });
});
