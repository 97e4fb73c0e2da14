import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type UnaryRequest, type UnaryResponse } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { ListUsersRequestSchema, UserService } from "../../src/gen/zitadel/user/v2/user_service_pb.js";
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
});
