import type { SoriClient } from "@sori/sdk";
import { createLogger } from "@sori/server";
import { startXmppGateway, type XmppGateway, type XmppGatewayOptions } from "@sori/xmpp-gateway";

/**
 * The XMPP gateway as the integration tests run it, in this process: attached to `xmpp`'s component
 * port (or `port`, e.g. a relay in front of it) on loopback, its log lines kept in `logs`; resolves
 * once it is online. `extra` passes any other option (file hosting, keepalive, reconnect waits).
 */
export async function startTestGateway(
  o: {
    client: SoriClient;
    xmpp: { componentPort: number; secret: string };
    domain: string;
    dataDir: string;
    logs: string[];
    port?: number;
  },
  extra: Partial<XmppGatewayOptions> = {},
): Promise<XmppGateway> {
  const gateway = await startXmppGateway({
    client: o.client,
    service: `xmpp://127.0.0.1:${o.port ?? o.xmpp.componentPort}`,
    domain: o.domain,
    secret: o.xmpp.secret,
    dataDir: o.dataDir,
    log: createLogger("info", (l) => o.logs.push(l)),
    ...extra,
  });
  await gateway.online();
  return gateway;
}
