import type { WebSocket, WebSocketServer } from "ws";

/**
 * One heartbeat sweep for all sockets (not a timer per connection: idle connections are what a server
 * holds most of): a socket that sent nothing and did not answer the previous ping within `intervalMs`
 * is terminated (a half-open connection after a network change, or a silent peer).
 */
export function startHeartbeat(
  wss: WebSocketServer,
  intervalMs: number,
): { heard(ws: WebSocket): void; stop(): void } {
  const unanswered = new WeakSet<WebSocket>();
  const timer = setInterval(() => {
    for (const ws of wss.clients) {
      if (unanswered.has(ws)) {
        ws.terminate();
        continue;
      }
      unanswered.add(ws);
      ws.ping();
    }
  }, intervalMs);
  timer.unref();
  return {
    /** The peer sent something (a frame or a pong): it is alive. */
    heard: (ws) => unanswered.delete(ws),
    stop: () => clearInterval(timer),
  };
}
