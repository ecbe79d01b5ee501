// A describe block's browser set-up: one web server started before its tests, and every device opened
// through the suite closed after them (then the server stopped), whatever the tests did.
import { after, before } from "node:test";
import { openDevice, startWebServer, type TestDevice } from "./harness.ts";

export type WebSuite = {
  /** The server's base URL; set once the suite's `before` hook has run. */
  readonly url: string;
  /** Every device opened so far, in order. */
  readonly devices: TestDevice[];
  /** Opens a device at the server's URL and keeps it for the suite's clean-up. */
  open(options?: Parameters<typeof openDevice>[1]): Promise<TestDevice>;
};

/**
 * Registers the suite's `before` (start the server) and `after` (close each device, stop the server)
 * hooks; call it at the top of a `describe` callback, before the block's own hooks.
 */
export function useWebSuite(): WebSuite {
  let url = "";
  let stop: (() => Promise<void>) | undefined;
  const devices: TestDevice[] = [];
  before(async () => {
    ({ url, stop } = await startWebServer());
  });
  after(async () => {
    for (const d of devices) await d.close().catch(() => undefined);
    await stop?.();
  });
  return {
    get url(): string {
      return url;
    },
    devices,
    async open(options) {
      const device = await openDevice(url, options);
      devices.push(device);
      return device;
    },
  };
}
