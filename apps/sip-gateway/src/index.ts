export {
  SipGatewayConfigError,
  type SipGateway,
  type SipGatewayOptions,
  type SipGatewayStats,
  startSipGateway,
} from "./sip-gateway.ts";
export type { SipListen } from "./transport/sip-transports.ts";
