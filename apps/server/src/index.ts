export { ConfigError, parseServerConfig, type ServerConfig } from "./config.ts";
export { createLogger, type Logger } from "./logger.ts";
export { runServerCommand } from "./run.ts";
export { type RunningServer, SERVER_VERSION, startServer } from "./server.ts";
export { SqliteStore } from "./store/sqlite-store.ts";
