// The composition root: builds the store, crypto, domain, API and transport from one Config and starts listening.
import { randomInt } from "node:crypto";
import { setMaxListeners } from "node:events";
import { setTimeout as sleep } from "node:timers/promises";
import type { AddressInfo } from "node:net";
import { dirname, join } from "node:path";
import { type Interceptor, createContextValues, createServiceImplSpec } from "@connectrpc/connect";
import { createApplicationServiceHandler } from "./api/application-service-handler.js";
import { createBearerAuthenticator } from "./api/bearer-authenticator.js";
import { createCallEndInterceptor } from "./api/call-end-interceptor.js";
import { keepingExistingUsers } from "./api/existing-targets.js";
import { createHealthHandler } from "./api/health-handler.js";
import { createInternalPermissionServiceHandler } from "./api/internal-permission-service-handler.js";
import { createOrganizationServiceHandler } from "./api/organization-service-handler.js";
import { createSecurityLogHandler } from "./api/security-log-handler.js";
import { createSecurityRecorder } from "./api/security-recorder.js";
import { createServerReflectionServices } from "./api/server-reflection-handler.js";
import { createUserServiceHandler } from "./api/user-service-handler.js";
import { createVerificationSettingsHandler } from "./api/verification-settings-handler.js";
import { announceTestContacts } from "./bootstrap/announce-test-contacts.js";
import { writeNewAdminTokenFile } from "./bootstrap/admin-token-file.js";
import { bootstrapInstance } from "./bootstrap/bootstrap-instance.js";
import type { Config } from "./config.js";
import { hashAccessToken, issueAccessToken } from "./crypto/access-token-secret.js";
import { randomApplicationId } from "./crypto/application-id.js";
import { createCodeHasher } from "./crypto/code-hmac.js";
import { loadKeyringFile } from "./crypto/keyring-file.js";
import { type KeyRecords, checkKeyring } from "./crypto/keyring-guard.js";
import { type Keyring, freshKeyring } from "./crypto/keyring.js";
import { isPrivateDatabase } from "./store/database-url.js";
import { createMessageSealer } from "./crypto/message-sealer.js";
import { createPasswordHasher } from "./crypto/password-hasher.js";
import { configuredDelivery } from "./delivery/configured-delivery.js";
import { withDeliveryLog } from "./delivery/logged-delivery.js";
import type { DeliveryProvider } from "./delivery/delivery-provider.js";
import { type OutboxWorker, startOutboxWorker } from "./delivery/outbox-worker.js";
import { loadMessageTemplates } from "./delivery/templates/template-directory.js";
import type { Channel } from "./domain/errors.js";
import type { MessageTemplates } from "./domain/messages/message-catalog.js";
import { parseLoginName } from "./domain/credentials/login-name.js";
import { PasswordLogin } from "./domain/credentials/password-login.js";
import { createIdGenerator } from "./domain/ids.js";
import type { Clock, OutboxStore } from "./domain/ports.js";
import { longestLimitWindowMs } from "./domain/limits/limits.js";
import { UserCommands } from "./domain/user-commands.js";
import { Health } from "./gen/grpc/health/v1/health_pb.js";
import { InternalPermissionService } from "./gen/zitadel/internal_permission/v2beta/internal_permission_service_pb.js";
import { OrganizationService } from "./gen/zitadel/org/v2/org_service_pb.js";
import { ApplicationService } from "./gen/verifyd/apps/v1/application_service_pb.js";
import { SecurityLogService } from "./gen/verifyd/security/v1/security_log_service_pb.js";
import { VerificationSettingsService } from "./gen/verifyd/settings/v1/verification_settings_service_pb.js";
import { UserService } from "./gen/zitadel/user/v2/user_service_pb.js";
import { type Logger, createLogger } from "./logger.js";
import { startPeriodicPurge } from "./maintenance/periodic-purge.js";
import { reportRefusedConnections, reportRefusedStreams } from "./metrics/connection-metrics.js";
import { createServerMetrics } from "./metrics/server-metrics.js";
import { buildOpenApiDocument } from "./openapi/openapi-document.js";
import { openApiJson } from "./openapi/openapi-json.js";
import { readinessChecks } from "./readiness.js";
import { StartupError } from "./startup-error.js";
import { openStore } from "./store/open-store.js";
import { rememberingFoundOrganizations } from "./store/remembered-organizations.js";
import type { DatabaseConnection } from "./store/stores.js";
import { createStorageHealth } from "./store/storage-health.js";
import { withAccessLog } from "./transport/access-log.js";
import { withAuthentication, withPrincipal } from "./transport/authentication.js";
import { observeRefusedCalls } from "./transport/called-method.js";
import { rpcContextValues } from "./transport/call-context.js";
import { applyCors } from "./transport/cors.js";
import { withHostCheck } from "./transport/host-check.js";
import { createUnsupportedFieldsInterceptor } from "./transport/interceptors/unsupported-fields-interceptor.js";
import { createValidationInterceptor } from "./transport/interceptors/validation-interceptor.js";
import { createKiiEndpoint } from "./transport/kii/kii-endpoint.js";
import { createListener } from "./transport/listener.js";
import { answerMetricsElsewhere, createMetricsEndpoint } from "./transport/metrics-endpoint.js";
import { packageVersion } from "./package-version.js";
import { type MetricsListener, listenForMetrics } from "./transport/metrics-listener.js";
import { createHeaderBlockChecks } from "./transport/header-block-checks.js";
import { createProbeEndpoint } from "./transport/probe-endpoint.js";
import { createClientAddresses, noticeIgnoredForwarding, warnOfIgnoredForwarding } from "./transport/client-address.js";
import { createTokenEndpoint, loginsPerClient } from "./transport/oauth/token-endpoint.js";
import { createOpenApiEndpoint } from "./transport/openapi-endpoint.js";
import { createRestGateway } from "./transport/rest/rest-gateway.js";
import { createRpcHandler } from "./transport/rpc-handler.js";
import { answerUnknownProcedure } from "./transport/unknown-procedure.js";

/** Replaceable parts, for tests: a clock to move time, a provider that records deliveries, a quiet logger. */
export interface ServerOverrides {
  clock?: Clock;
  logger?: Logger;
  deliveryProvider?: DeliveryProvider;
  /** How often the outbox worker looks for due messages (250 ms); longer, a test delivers with `outbox.runOnce()`. */
  outboxPollIntervalMs?: number;
}

export interface RunningServer {
  /** http:// or https:// with the bound host and port. */
  url: string;
  port: number;
  /** Where /metrics is served when --metrics-port gives it a port of its own. */
  metricsUrl?: string;
  outbox: OutboxWorker;
  /**
   * Shuts down gracefully, logging each step: readiness fails at once, new calls are still taken for delayMs (default
   * 0), then in-flight calls get graceMs (default 5 s) before their connections are closed, then the outbox worker
   * and the database are closed.
   */
  close(timing?: Partial<ShutdownTiming>): Promise<void>;
}

export interface ShutdownTiming {
  delayMs: number;
  graceMs: number;
}

const systemClock: Clock = { now: () => new Date() };

/** What can deliver each channel, for the warning about one without a provider. */
const providersFor: Record<Channel, string> = {
  phone: "Twilio or --sms-webhook-url for SMS",
  email: "SMTP or --email-webhook-url for email",
};

/** Login failure counts idle this long are deleted (see SqliteLoginStore.purgeIdle). */
const loginFailureRetentionMs = 24 * 3_600_000;

/** A worker's lease on the messages it claimed outlasts their delivery timeout by this much. */
const outboxLeaseMarginMs = 5_000;

export async function startServer(config: Config, overrides: ServerOverrides = {}): Promise<RunningServer> {
  const logger = overrides.logger ?? createLogger(config.logLevel);
  const clock = overrides.clock ?? systemClock;
  for (const setting of config.warnings) logger.warn("development-only setting", { setting });
  if (config.tlsAtProxy && config.trustedProxies.length === 0) {
    logger.warn("behind a proxy, every client is the proxy", {
      setting: "--tls-at-proxy without --trusted-proxies: the logs, the security log and the per-client login limit see the proxy's address; name the proxy in --trusted-proxies",
    });
  }
  // Before the store: a start refused for its templates leaves no database or keyring behind.
  const messages = loadMessageTemplates(config.messages, (notice) => logger.warn("message templates left to others", { notice }));
  const database = await openStore(config.database, {
    integrityCheck: config.integrityCheck,
    holdExclusively: config.sqliteLocking === "exclusive",
    watchFiles: true,
    postgres: config.postgres,
    logger,
  });
  // An upgrade's migrations may hold a table for a while: the log says when they ran and what they were. Drizzle numbers
  // them from 0000, so a database that lacked the first was created now, which is no upgrade to tell.
  const [firstApplied] = database.appliedMigrations;
  if (firstApplied !== undefined && !firstApplied.startsWith("0000_")) {
    logger.info("database migrations applied", { migrations: database.appliedMigrations });
  }
  try {
    return await startOn(database, config, messages, logger, clock, overrides);
  } catch (error) {
    await database.close();
    throw error;
  }
}

async function startOn(
  database: DatabaseConnection,
  config: Config,
  messages: MessageTemplates,
  logger: Logger,
  clock: Clock,
  overrides: ServerOverrides,
): Promise<RunningServer> {
  const storage = createStorageHealth({
    logger,
    probeRead: database.probeRead,
    probeWrite: database.probeWrite,
    ...(database.lostFiles ? { lostFiles: database.lostFiles } : {}),
  });
  // A start may write nothing (an existing database, nothing to migrate): without a write now, a server on a full
  // disk said READY until the first call failed. A failure starts the episode (and its line); the server still starts.
  await Promise.resolve()
    .then(() => storage.write(database.probeWrite))
    .catch(() => undefined);
  const newId = createIdGenerator(() => clock.now(), randomInt);
  // A claimed batch is delivered within the delivery timeout; the margin covers recording the outcomes, so that no
  // other worker claims a message whose delivery is still under way.
  const outboxLeaseMs = config.delivery.timeoutMs + outboxLeaseMarginMs;
  const stores = database.stores({ storage, newId, outboxLeaseMs });
  const { users, userQuery, organizationSettings, members, tokens, applications, logins, securityLog, instance } = stores;
  const organizations = rememberingFoundOrganizations(stores.organizations);
  const keyring = await openKeyring(config, stores.keys, logger, clock);
  await warnOfMessagesWithoutKey(stores.outbox, keyring, logger, clock);
  const sealer = createMessageSealer(keyring);
  await organizations.defaultOrganization();
  await announceTestContacts(organizationSettings, config.testContacts, logger);
  const recordSecurityEvent = createSecurityRecorder({ log: securityLog, clock, logger });
  // One hasher for creating and checking passwords: its dummy hash makes a login for nobody cost the same, and its
  // queue bounds the cores they take together.
  const passwords = createPasswordHasher(config.passwordChecks);
  const phonePolicy = {
    ...(config.phone.defaultRegion ? { defaultRegion: config.phone.defaultRegion } : {}),
    allowLandline: config.phone.allowLandline,
  };
  const commands = new UserCommands({
    users,
    organizations,
    settings: organizationSettings,
    clock,
    newId,
    randomIndex: randomInt,
    hasher: createCodeHasher(keyring),
    sealer,
    passwords,
    policy: {
      codes: { phone: config.code, email: config.code },
      failures: config.failures,
      phone: phonePolicy,
      limits: config.verificationLimits,
      testContacts: config.testContacts,
      sendChannels: config.delivery.sendChannels,
      messages,
    },
  });

  // Before the outbox worker and the listener: the bootstrap holds the database's write lock on this connection.
  await bootstrapInstance({
    instance,
    createAdministrator: async (account) => (await commands.createMachineUser(account)).userId,
    findAdministrator: async (username) => {
      const named = await logins.findByLoginName(parseLoginName(username, phonePolicy), (await organizations.defaultOrganization()).id);
      return named.find((user) => user.kind === "machine")?.id;
    },
    members,
    tokens,
    issueToken: issueAccessToken,
    newId,
    clock,
    personalTokenTtlMs: config.tokens.personalTtlMs,
    tokenFile: config.adminTokenFile,
    writeTokenFile: writeNewAdminTokenFile,
    recordSecurityEvent,
    logger,
  });
  const authenticator = createBearerAuthenticator({ tokens, clock, hashToken: hashAccessToken });

  // A shutdown's two moments: it begins (not ready, still taking calls), then no more calls are taken.
  const stopping = new AbortController();
  const stopped = new AbortController();
  // Every open health watch listens on both (and removes its listeners as it ends): a mesh holding more than Node's
  // default of 10 watches is no leak, and must not be logged as one.
  setMaxListeners(0, stopping.signal, stopped.signal);
  const userService = createUserServiceHandler({
    commands,
    userQuery,
    tokens,
    members,
    users,
    logins,
    phonePolicy,
    issueToken: issueAccessToken,
    newId,
    clock,
    personalTokenTtlMs: config.tokens.personalTtlMs,
    recordSecurityEvent,
  });
  const services = [
    createServiceImplSpec<typeof UserService>(UserService, userService),
    createServiceImplSpec<typeof OrganizationService>(
      OrganizationService,
      createOrganizationServiceHandler({ organizations, newId, clock, recordSecurityEvent }),
    ),
    createServiceImplSpec<typeof InternalPermissionService>(
      InternalPermissionService,
      createInternalPermissionServiceHandler({ members, users, organizations, clock, recordSecurityEvent }),
    ),
    createServiceImplSpec<typeof SecurityLogService>(SecurityLogService, createSecurityLogHandler({ log: securityLog, clock })),
    createServiceImplSpec<typeof VerificationSettingsService>(
      VerificationSettingsService,
      createVerificationSettingsHandler({
        organizations,
        settings: organizationSettings,
        sealer,
        phonePolicy,
        instanceLimits: config.verificationLimits,
        testContactsHonoured: config.testContacts,
        clock,
        recordSecurityEvent,
      }),
    ),
    createServiceImplSpec<typeof ApplicationService>(
      ApplicationService,
      createApplicationServiceHandler({
        applications,
        organizations,
        newApplicationId: randomApplicationId,
        issueKey: issueAccessToken,
        clock,
        recordSecurityEvent,
      }),
    ),
  ];
  services.push(
    createServiceImplSpec<typeof Health>(
      Health,
      createHealthHandler({
        services: services.map((service) => service.service.typeName),
        isServing: () => !stopping.signal.aborted && storage.isHealthy(),
        stopping: stopping.signal,
        stopped: stopped.signal,
      }),
    ),
  );
  const metrics = createServerMetrics({ outbox: stores.outbox, clock, version: packageVersion(), storageHealthy: () => storage.isHealthy() });
  const interceptors: Interceptor[] = [
    createCallEndInterceptor({
      metrics: metrics.calls,
      observeOutcome: metrics.outcomes,
      recordSecurityEvent,
      existingTargets: keepingExistingUsers(users),
      logger,
    }),
    createUnsupportedFieldsInterceptor(),
    createValidationInterceptor(),
  ];
  const rest = createRestGateway({
    services,
    interceptors,
    maxBodyBytes: config.limits.maxBodyBytes,
    contextValues: (req) => withPrincipal(req, createContextValues()),
    logger,
  });
  // Not for the REST gateway: reflection is a streaming RPC, with no REST route.
  const reflection = config.reflection ? createServerReflectionServices(services.map((spec) => spec.service)) : [];
  const rpc = createRpcHandler({
    services: [...services, ...reflection],
    interceptors,
    readMaxBytes: config.limits.maxBodyBytes,
    contextValues: (req) => withPrincipal(req, rpcContextValues(req)),
    fallback: (req, res) => answerUnknownProcedure(req, res) || rest(req, res),
    logger,
  });

  const delivery = overrides.deliveryProvider
    ? { provider: overrides.deliveryProvider, names: {}, undelivered: [], close: () => undefined }
    : await configuredDelivery(config);
  const provider = delivery.provider && withDeliveryLog(delivery.provider, logger);
  const unsent = delivery.undelivered.filter((channel) => config.delivery.sendChannels.includes(channel));
  if (unsent.length > 0) {
    logger.warn(
      `no delivery provider for ${unsent.join(" and ")}: codes requested there with send_code are not sent; ` +
        `configure ${unsent.map((channel) => providersFor[channel]).join(" and ")}, leave the channel out of --send-channels, or --dev-print-codes in development`,
    );
  }
  const outbox = startOutboxWorker({
    outbox: stores.outbox,
    sealer,
    ...(provider ? { provider, providerNames: delivery.names, onDelivery: metrics.deliveries.counted, onProviderAnswer: metrics.deliveries.answered } : {}),
    clock,
    logger,
    retentionMs: config.outboxRetentionMs,
    deliveryTimeoutMs: config.delivery.timeoutMs,
    leaseMs: outboxLeaseMs,
    maxAttempts: config.delivery.attempts,
    ...(overrides.outboxPollIntervalMs === undefined ? {} : { pollIntervalMs: overrides.outboxPollIntervalMs }),
  });

  const purge = startPeriodicPurge({
    clock,
    logger,
    tasks: [
      { name: "limit entries", run: (now) => users.purgeLimitEntries(new Date(now.getTime() - longestLimitWindowMs)) },
      { name: "login failures", run: (now) => logins.purgeIdle(new Date(now.getTime() - loginFailureRetentionMs)) },
      { name: "security log", run: (now) => securityLog.purge(new Date(now.getTime() - config.securityLogRetentionMs)) },
    ],
  });

  const authenticated = withAuthentication(
    { authenticator, logger, onRefused: observeRefusedCalls(services.map((spec) => spec.service), metrics.calls) },
    rpc,
  );
  const tokenDeps = {
    recordSecurityEvent,
    login: new PasswordLogin({
      logins,
      passwords,
      tokens,
      issueToken: issueAccessToken,
      newId,
      clock,
      tokenTtlMs: config.tokens.loginTtlMs,
      phone: phonePolicy,
    }),
    maxBodyBytes: config.limits.maxBodyBytes,
    loginsUnderWay: loginsPerClient(config.passwordChecks),
    loginsNeedOrganization: config.tokens.loginsNeedOrganization,
    logger,
  };
  const tokenEndpoint = createTokenEndpoint({ ...tokenDeps, calls: metrics.calls });
  const kiiEndpoint = createKiiEndpoint({
    callers: { applications, authenticator, hashKey: hashAccessToken },
    users: { commands, logins, members, phonePolicy, recordSecurityEvent, observeOutcome: metrics.outcomes },
    token: tokenDeps,
    maxBodyBytes: config.limits.maxBodyBytes,
    logger,
    calls: metrics.calls,
  });
  const probes = createProbeEndpoint(
    readinessChecks({ storage, pendingMigrations: database.pendingMigrations, outbox, isClosing: () => stopping.signal.aborted }),
    logger,
  );
  const metricsEndpoint = createMetricsEndpoint(metrics.registry, logger);
  // Built from the services the REST gateway serves, so it describes exactly the routes of this process.
  const openApiEndpoint = createOpenApiEndpoint(openApiJson(buildOpenApiDocument(services.map((spec) => spec.service))));
  const metricsOnMainPort = config.metrics.enabled && config.metrics.port === undefined;
  const metricsElsewhere = answerMetricsElsewhere(config.metrics.enabled ? `on --metrics-port ${config.metrics.port}` : "off (--metrics)");
  const headerBlockRefused = createHeaderBlockChecks(config.limits.maxHeaderBytes);
  const hostChecked = withHostCheck(config.allowedHosts, (req, res) => {
    if (probes(req, res)) return;
    // The token endpoint is where a token comes from, and /openapi.json is the public contract: neither needs one.
    // Kii's API (under /api/apps/) checks its own credentials: an app's Basic key or a bearer token.
    if (
      !applyCors(config.corsOrigins, req, res, config.tls !== undefined || config.tlsAtProxy) &&
      !openApiEndpoint(req, res) &&
      !kiiEndpoint(req, res) &&
      !tokenEndpoint(req, res)
    ) {
      authenticated(req, res);
    }
  });
  const clients = createClientAddresses(config.trustedProxies);
  const listener = createListener({
    // Scrapers, like probes, address the server by whatever name or pod address they found it under.
    handler: noticeIgnoredForwarding(
      withAccessLog(logger, (req, res) => {
        if (headerBlockRefused(req, res)) return;
        if (metricsOnMainPort ? metricsEndpoint(req, res) : metricsElsewhere(req, res)) return;
        hostChecked(req, res);
      }, metrics.refusals, clients.of),
      clients.isTrustedProxy,
      warnOfIgnoredForwarding(logger),
    ),
    clients,
    limits: config.limits,
    ...(config.tls ? { tls: config.tls } : {}),
    onClientError: (error) => {
      // Peers hanging up is routine; anything else (malformed requests, failed handshakes) is worth a line.
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== "ECONNRESET" && code !== "EPIPE") logger.warn("client connection error", { error: error.message, code });
    },
    onConnectionRefused: reportRefusedConnections(metrics.connectionsRefused, logger),
    onStreamRefused: reportRefusedStreams(metrics.streamsRefused, logger),
  });
  await new Promise<void>((resolve, reject) => {
    listener.server.once("error", (error) => reject(explainListenFailure(error, config)));
    listener.server.listen(config.port, config.host, () => resolve());
  }).catch(async (error: unknown) => {
    await outbox.stop();
    delivery.close();
    await purge.stop();
    throw error;
  });
  let metricsListener: MetricsListener | undefined;
  if (config.metrics.enabled && config.metrics.port !== undefined) {
    metricsListener = await listenForMetrics(metricsEndpoint, config.host, config.metrics.port).catch(async (error: unknown) => {
      await listener.close();
      await outbox.stop();
      delivery.close();
      await purge.stop();
      throw error;
    });
  }
  const { port } = listener.server.address() as AddressInfo;
  const host = config.host.includes(":") ? `[${config.host}]` : config.host;
  const url = `${config.tls ? "https" : "http"}://${host}:${port}`;
  const metricsAt = metricsListener ? `${metricsListener.url}/metrics` : metricsOnMainPort ? `${url}/metrics` : "off";
  logger.info("verifyd listening", {
    url,
    version: packageVersion(),
    database: database.location,
    deliversMessages: provider !== undefined,
    metrics: metricsAt,
  });

  return {
    url,
    port,
    ...(metricsListener ? { metricsUrl: metricsListener.url } : {}),
    outbox,
    async close({ delayMs = 0, graceMs = 5_000 } = {}) {
      // Probes see NOT_SERVING from here on, while calls still arrive from load balancers that have not noticed yet.
      stopping.abort();
      listener.drain();
      logger.info("shutdown: not ready; still taking new calls", { delayMs });
      await sleep(delayMs);
      logger.info("shutdown: no new calls taken; waiting for in-flight calls", { graceMs });
      // Deliveries under way get the calls' grace to be answered and recorded; cut short after it, they are sent again
      // under the same id after their lease. Left running, one answered after the database closed was sent twice.
      const deliveriesSettled = outbox.stop(graceMs);
      stopped.abort();
      const { destroyedConnections } = await listener.close(graceMs);
      if (destroyedConnections === 0) logger.info("shutdown: in-flight calls finished");
      else logger.warn("shutdown: grace period over; closed connections with calls in flight", { destroyedConnections });
      await metricsListener?.close();
      await deliveriesSettled;
      delivery.close();
      await purge.stop();
      logger.info("shutdown: outbox worker and maintenance stopped");
      await database.close();
      logger.info("shutdown: database closed");
    },
  };
}

/**
 * The configured keyring, or the one in the data directory (a database in memory, gone at exit, needs none beyond the
 * process); refused if it cannot open what the database holds.
 */
async function openKeyring(config: Config, records: KeyRecords, logger: Logger, clock: Clock): Promise<Keyring> {
  const path = join(dirname(config.database), "keyring.json");
  const keyring =
    config.keys ??
    (isPrivateDatabase(config.database) ? freshKeyring() : loadKeyringFile(path, { mayCreate: !(await records.holdsData()) }));
  const { retiredIds } = await checkKeyring(keyring, config.keys ? "VERIFYD_KEYS / --keys" : path, records, clock.now());
  if (retiredIds.length > 0) {
    logger.warn("the keyring has none of the keys this database was used with: codes and messages made with those count as expired", {
      keyIds: keyring.ids,
      retiredKeyIds: retiredIds,
    });
  }
  return keyring;
}

/**
 * Messages sealed with a key this keyring lacks wait, unclaimed, until their code expires: no worker of this keyring
 * can open them. Said at start, since dropping a key too early (or rolling back a rotation) gives no other sign.
 */
async function warnOfMessagesWithoutKey(outbox: OutboxStore, keyring: Keyring, logger: Logger, clock: Clock): Promise<void> {
  const waiting = [...(await outbox.waitingByKey(clock.now()))].filter(([keyId]) => !keyring.ids.includes(keyId));
  if (waiting.length === 0) return;
  logger.warn(
    "messages waiting for delivery were sealed with keys this keyring lacks: this server cannot send them; give those keys back (after the current one) until the messages' codes expire",
    { messagesByKeyId: Object.fromEntries(waiting), keyIds: keyring.ids },
  );
}

function explainListenFailure(error: NodeJS.ErrnoException, config: Config): Error {
  const where = `${config.host} port ${config.port}`;
  if (error.code === "EADDRINUSE") {
    return new StartupError(`${where} is already in use by another process; stop it or choose another --port / PORT`);
  }
  if (error.code === "EACCES") {
    return new StartupError(`not allowed to listen on ${where}; choose a --port / PORT above 1023 or grant the permission`);
  }
  if (error.code === "EADDRNOTAVAIL") {
    return new StartupError(`${config.host} is not an address of this machine; choose another --host / HOST`);
  }
  if (error.code === "ENOTFOUND" || error.code === "EAI_AGAIN") {
    return new StartupError(`${config.host} is no name this machine can resolve (${error.code}); give an address, or another --host / HOST`);
  }
  return error;
}
