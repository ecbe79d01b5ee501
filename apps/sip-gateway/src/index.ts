export {
  SipGatewayConfigError,
  type SipGateway,
  type SipGatewayOptions,
  type SipGatewayStats,
  startSipGateway,
} from "./sip-gateway.ts";
