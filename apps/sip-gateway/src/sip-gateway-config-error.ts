/** The gateway was started with options it cannot work with. */
export class SipGatewayConfigError extends Error {
  readonly code = "bad-config";
  constructor(message: string) {
    super(message);
    this.name = "SipGatewayConfigError";
  }
}
