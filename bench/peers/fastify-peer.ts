// The REST peer: Fastify serving ZITADEL's REST routes for VerifyPhone and AddHumanUser, with proto3 JSON answers and
// google.rpc.Status error bodies, as a team without verifyd would write them.
// Run: node fastify-peer.js --port N --database F
import Fastify, { type FastifyReply } from "fastify";
import type { Answer, Details } from "./peer-service.js";
import { startPeerService } from "./peer-process.js";

const { port, service } = startPeerService();

// gRPC codes to HTTP statuses, as google.api.http gateways map them.
const httpStatus: Record<number, number> = { 3: 400, 5: 404, 9: 400, 10: 409, 16: 401 };

function answer<T>(result: Answer<T>, reply: FastifyReply, toJson: (value: T) => object) {
  if (result.ok) return reply.send(toJson(result.value));
  return reply.code(httpStatus[result.code] ?? 500).send({ code: result.code, message: result.message, details: [] });
}

// uint64 as a string, the timestamp in RFC 3339: proto3's JSON mapping.
const detailsJson = ({ sequence, changeDate, resourceOwner }: Details) => ({
  sequence: String(sequence),
  changeDate: changeDate.toISOString(),
  resourceOwner,
});

// Above the load generator's pauses, so that no kept-alive connection is closed under it.
const app = Fastify({ keepAliveTimeout: 60_000 });
app.post<{ Params: { userId: string }; Body: { verificationCode?: unknown } }>("/v2/users/:userId/phone/verify", (request, reply) =>
  answer(service.verifyPhone(request.headers.authorization, request.params.userId, request.body?.verificationCode), reply, (details) => ({
    details: detailsJson(details),
  })),
);
app.post("/v2/users/human", (request, reply) =>
  answer(service.addHumanUser(request.headers.authorization, request.body), reply, ({ userId, details }) => ({
    userId,
    details: detailsJson(details),
  })),
);
await app.listen({ port, host: "127.0.0.1" });
