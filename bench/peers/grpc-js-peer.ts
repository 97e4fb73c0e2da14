// The gRPC peer: @grpc/grpc-js serving zitadel.user.v2.UserService's VerifyPhone and AddHumanUser from the repository's
// .proto files, read at start with @grpc/proto-loader, as a team without verifyd would serve them.
// Run from the repository root (the .proto files are found from there): node grpc-js-peer.js --port N --database F
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import type { Answer, Details } from "./peer-service.js";
import { startPeerService } from "./peer-process.js";

const { port, service } = startPeerService();
const definition = protoLoader.loadSync("zitadel/user/v2/user_service.proto", {
  includeDirs: [join(process.cwd(), "proto"), join(process.cwd(), "third_party")],
  longs: String,
  defaults: false,
  oneofs: true,
});
const { UserService } = (grpc.loadPackageDefinition(definition) as unknown as { zitadel: { user: { v2: { UserService: grpc.ServiceClientConstructor } } } }).zitadel.user.v2;

type Unary = grpc.handleUnaryCall<Record<string, unknown>, Record<string, unknown>>;

const bearer = (call: grpc.ServerUnaryCall<unknown, unknown>) => call.metadata.get("authorization")[0]?.toString();

function answer<T>(result: Answer<T>, callback: grpc.sendUnaryData<Record<string, unknown>>, toMessage: (value: T) => Record<string, unknown>) {
  if (result.ok) callback(null, toMessage(result.value));
  else callback({ code: result.code, details: result.message });
}

function detailsMessage({ sequence, changeDate, resourceOwner }: Details) {
  const ms = changeDate.getTime();
  return { sequence: String(sequence), changeDate: { seconds: String(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1e6 }, resourceOwner };
}

const verifyPhone: Unary = (call, callback) => {
  const { userId, verificationCode } = call.request as { userId?: string; verificationCode?: string };
  answer(service.verifyPhone(bearer(call), userId, verificationCode), callback, (details) => ({ details: detailsMessage(details) }));
};

const addHumanUser: Unary = (call, callback) => {
  answer(service.addHumanUser(bearer(call), call.request), callback, ({ userId, details }) => ({ userId, details: detailsMessage(details) }));
};

const server = new grpc.Server();
server.addService(UserService.service, { verifyPhone, addHumanUser });
server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (error) => {
  if (error) {
    console.error(`grpc-js peer: ${error.message}`);
    process.exit(1);
  }
});
