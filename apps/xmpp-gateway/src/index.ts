export {
  startXmppGateway,
  type XmppGateway,
  type XmppGatewayOptions,
  type XmppGatewayStats,
} from "./xmpp-gateway.ts";
