import type { RawCommand } from "../command.ts";

export const serverCommand: RawCommand = {
  name: "server",
  synopsis: "[--host 127.0.0.1] [--port 8080] [--data ./sori-data] [--sip-listen udp:<host>:<port> …]",
  summary: "run a server, with the SIP gateway beside it when --sip-listen is given (sori server --help)",
  runRaw: async (argv, io) => {
    // Loaded here: the server's modules are not needed by any other command.
    const { GATEWAY_HELP, runServerWithGateway, wantsGateway } =
      await import("../calls/server-with-gateway.ts");
    if (argv.includes("--help") || argv.includes("-h")) {
      const { runServerCommand } = await import("@sori/server");
      const code = await runServerCommand(["--help"]);
      io.stdout(GATEWAY_HELP);
      return code;
    }
    if (wantsGateway(argv)) {
      const { run } = await import("../run.ts");
      return runServerWithGateway(argv, io, run);
    }
    const { runServerCommand } = await import("@sori/server");
    return runServerCommand(argv);
  },
};
