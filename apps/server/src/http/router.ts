import type { IncomingMessage, RequestListener, ServerResponse } from "node:http";
import { ProtocolError } from "@sori/protocol";
import { clientAddress } from "../client-address.ts";
import type { Logger } from "../logger.ts";
import { toProtocolError } from "../request-errors.ts";
import { HSTS_HEADER } from "../tls.ts";
import { readJson } from "./body.ts";
import { sendError, sendJson } from "./responses.ts";

/** Everything a route handler gets for one request. */
export type RequestContext = {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  /** `url.pathname`. */
  path: string;
  method: string;
  /** The client's address for per-address limits (from X-Forwarded-For only with --trust-proxy). */
  address: string;
  /** What the route's pattern captured (for a RegExp path). */
  params: readonly (string | undefined)[];
  log: Logger;
  /** Reads the body as JSON, at most the configured request size. */
  readJson(): Promise<unknown>;
  /** Answers with a JSON body. */
  json(status: number, body: unknown): void;
};

/** One endpoint. Handlers throw ProtocolError (or let a StoreError pass) to answer with an error. */
export type Route = {
  /** An HTTP method, or "*" for a handler that checks the method itself (after authenticating, say). */
  method: string;
  /** The exact path, or a RegExp over the whole path whose groups become `params`. */
  path: string | RegExp;
  handle(ctx: RequestContext): Promise<void>;
};

/** Paths that belong to the API: an unknown one gets a JSON error, not the app's HTML. */
function isApiPath(path: string): boolean {
  return path === "/api" || path.startsWith("/api/") || path === "/healthz" || path === "/metrics";
}

function matches(route: Route, path: string, method: string): readonly (string | undefined)[] | undefined {
  if (route.method !== "*" && route.method !== method) return undefined;
  if (typeof route.path === "string") return route.path === path ? [] : undefined;
  return route.path.exec(path)?.slice(1);
}

/**
 * The HTTP request listener: the first route whose method and path match handles the request; an
 * unknown API path is a not-found error, anything else goes to `fallback` (the web app's files).
 * Every failure is answered through the one mapping of errors (request-errors.ts).
 */
export function createRouter(options: {
  routes: readonly Route[];
  fallback(ctx: RequestContext): Promise<void>;
  log: Logger;
  trustProxy: boolean;
  /** The largest JSON body `readJson` accepts. */
  maxJsonBytes: number;
  /** Over TLS every response carries HSTS. */
  hsts: boolean;
}): RequestListener {
  const { routes, fallback, log, trustProxy, maxJsonBytes, hsts } = options;
  const route = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const ctx = {
      req,
      res,
      url,
      path: url.pathname,
      method: req.method ?? "GET",
      address: clientAddress(req, trustProxy),
      log,
      readJson: () => readJson(req, maxJsonBytes),
      json: (status: number, body: unknown) => sendJson(res, status, body),
    };
    for (const r of routes) {
      const params = matches(r, ctx.path, ctx.method);
      if (params) return r.handle({ ...ctx, params });
    }
    if (isApiPath(ctx.path)) throw new ProtocolError("not-found", `no endpoint ${ctx.method} ${ctx.path}`);
    await fallback({ ...ctx, params: [] });
  };
  return (req, res) => {
    if (hsts) res.setHeader("strict-transport-security", HSTS_HEADER);
    route(req, res).catch((error: unknown) => {
      const e = toProtocolError(error, log, `${req.method ?? "GET"} ${req.url?.split("?")[0]}`);
      if (res.headersSent) {
        res.destroy();
        return;
      }
      sendError(res, e);
    });
  };
}
