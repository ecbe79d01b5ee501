export { ConfigError, parseServerConfig, type ServerConfig } from "./config.ts";
export { createLogger, type Logger } from "./logger.ts";
export { runServerCommand } from "./run.ts";
export { SERVER_VERSION } from "./http/health-routes.ts";
export { type RunningServer, startServer } from "./server.ts";
export { SqliteStore } from "./store/sqlite-store.ts";
export { hashPassword } from "./password.ts";
export { TokenBuckets } from "./token-bucket.ts";
export { isPrivateAddress } from "./private-address.ts";
