export { SipGatewayConfigError } from "./sip-gateway-config-error.ts";
export { type SipGateway, type SipGatewayOptions, type SipGatewayStats } from "./sip-gateway-options.ts";
export { startSipGateway } from "./sip-gateway.ts";
export type { SipListen } from "./transport/sip-transports.ts";
