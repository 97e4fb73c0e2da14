// The composition root: builds the store, crypto, domain, API and transport from one Config and starts listening.
import { randomInt } from "node:crypto";
import type { AddressInfo } from "node:net";
import { dirname, join } from "node:path";
import { type Interceptor, createServiceImplSpec } from "@connectrpc/connect";
import { createHealthHandler } from "./api/health-handler.js";
import { createUserServiceHandler } from "./api/user-service-handler.js";
import type { Config } from "./config.js";
import { createCodeHasher } from "./crypto/code-hmac.js";
import { type Keyring, loadOrCreateKeyringFile } from "./crypto/keyring.js";
import { createMessageSealer } from "./crypto/message-sealer.js";
import { createConsoleSink } from "./delivery/console-sink.js";
import type { DeliveryProvider } from "./delivery/delivery-provider.js";
import { type OutboxWorker, startOutboxWorker } from "./delivery/outbox-worker.js";
import { createIdGenerator } from "./domain/ids.js";
import type { Clock } from "./domain/ports.js";
import { UserCommands } from "./domain/user-commands.js";
import { Health } from "./gen/grpc/health/v1/health_pb.js";
import { UserService } from "./gen/zitadel/user/v2/user_service_pb.js";
import { type Logger, createLogger } from "./logger.js";
import { openDatabase } from "./store/open-database.js";
import { SqliteOrganizationStore } from "./store/sqlite-organization-store.js";
import { SqliteOutboxStore } from "./store/sqlite-outbox-store.js";
import { SqliteUserStore } from "./store/sqlite-user-store.js";
import { rpcContextValues } from "./transport/call-context.js";
import { applyCors } from "./transport/cors.js";
import { createErrorInterceptor } from "./api/error-interceptor.js";
import { createUnsupportedFieldsInterceptor } from "./transport/interceptors/unsupported-fields-interceptor.js";
import { createValidationInterceptor } from "./transport/interceptors/validation-interceptor.js";
import { createListener } from "./transport/listener.js";
import { createRestGateway } from "./transport/rest/rest-gateway.js";
import { createRpcHandler } from "./transport/rpc-handler.js";
import { answerUnknownProcedure } from "./transport/unknown-procedure.js";

/** Replaceable parts, for tests: a clock to move time, a provider that records deliveries, a quiet logger. */
export interface ServerOverrides {
  clock?: Clock;
  logger?: Logger;
  deliveryProvider?: DeliveryProvider;
}

export interface RunningServer {
  /** http:// or https:// with the bound host and port. */
  url: string;
  port: number;
  outbox: OutboxWorker;
  close(): Promise<void>;
}

const systemClock: Clock = { now: () => new Date() };

export async function startServer(config: Config, overrides: ServerOverrides = {}): Promise<RunningServer> {
  const logger = overrides.logger ?? createLogger(config.logLevel);
  const clock = overrides.clock ?? systemClock;
  const database = openDatabase(config.database);
  const keyring = loadKeyring(config);
  const newId = createIdGenerator(() => clock.now(), randomInt);
  const sealer = createMessageSealer(keyring);
  const organizations = new SqliteOrganizationStore(database.db, newId);
  await organizations.defaultOrganization();

  const commands = new UserCommands({
    users: new SqliteUserStore(database.db),
    organizations,
    clock,
    newId,
    randomIndex: randomInt,
    hasher: createCodeHasher(keyring),
    sealer,
    policy: {
      codes: { phone: config.code, email: config.code },
      failures: config.failures,
      phone: {
        ...(config.phone.defaultRegion ? { defaultRegion: config.phone.defaultRegion } : {}),
        allowLandline: config.phone.allowLandline,
      },
    },
  });

  let closing = false;
  const services = [
    createServiceImplSpec<typeof UserService>(UserService, createUserServiceHandler(commands)),
    createServiceImplSpec<typeof Health>(
      Health,
      createHealthHandler({
        services: [UserService.typeName],
        isServing: () => !closing && database.isReadable(),
      }),
    ),
  ];
  const interceptors: Interceptor[] = [
    createErrorInterceptor(logger),
    createUnsupportedFieldsInterceptor(),
    createValidationInterceptor(),
  ];
  const rest = createRestGateway({
    services,
    interceptors,
    maxBodyBytes: config.limits.maxBodyBytes,
    logger,
  });
  const rpc = createRpcHandler({
    services,
    interceptors,
    readMaxBytes: config.limits.maxBodyBytes,
    contextValues: rpcContextValues,
    fallback: (req, res) => answerUnknownProcedure(req, res) || rest(req, res),
    logger,
  });

  const provider = overrides.deliveryProvider ?? (config.devPrintCodes ? createConsoleSink() : undefined);
  if (!provider) {
    logger.warn(
      "no delivery provider: codes requested with send_code wait encrypted and are wiped when they expire; " +
        "use return_code, or --dev-print-codes in development",
    );
  }
  const outbox = startOutboxWorker({
    outbox: new SqliteOutboxStore(database.db),
    sealer,
    ...(provider ? { provider } : {}),
    clock,
    logger,
  });

  const listener = createListener({
    handler: (req, res) => {
      if (!applyCors(config.corsOrigins, req, res)) rpc(req, res);
    },
    limits: config.limits,
    ...(config.tls ? { tls: config.tls } : {}),
    onClientError: (error) => {
      // Peers hanging up is routine; anything else (malformed requests, failed handshakes) is worth a line.
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== "ECONNRESET" && code !== "EPIPE") logger.warn("client connection error", { error: error.message, code });
    },
  });
  await new Promise<void>((resolve, reject) => {
    listener.server.once("error", reject);
    listener.server.listen(config.port, config.host, () => resolve());
  });
  const { port } = listener.server.address() as AddressInfo;
  const host = config.host.includes(":") ? `[${config.host}]` : config.host;
  const url = `${config.tls ? "https" : "http"}://${host}:${port}`;
  logger.info("verifyd listening", { url, database: config.database, deliversMessages: provider !== undefined });

  return {
    url,
    port,
    outbox,
    async close() {
      // Probes see NOT_SERVING while in-flight calls drain.
      closing = true;
      await listener.close();
      await outbox.stop();
      database.close();
    },
  };
}

function loadKeyring(config: Config): Keyring {
  return config.keys ?? loadOrCreateKeyringFile(join(dirname(config.database), "keyring.json"));
}
