import type { ServerResponse } from "node:http";
import { httpStatusFor, type ProtocolError } from "@sori/protocol";

/** Answers with a JSON body that no cache keeps and no browser sniffs as anything else. */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
  });
  res.end(text);
}

/** The HTTP body of an error: `{"error": {code, message, details?}}`. */
export function errorBody(e: ProtocolError): string {
  return JSON.stringify({
    error: {
      code: e.code,
      message: e.message,
      ...(Object.keys(e.details).length ? { details: e.details } : {}),
    },
  });
}

/** Answers with an error, its status from its code. */
export function sendError(res: ServerResponse, e: ProtocolError): void {
  res.writeHead(httpStatusFor(e.code), {
    "content-type": "application/json; charset=utf-8",
    "x-content-type-options": "nosniff",
  });
  res.end(errorBody(e));
}
