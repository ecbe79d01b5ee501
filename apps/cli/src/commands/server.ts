import type { RawCommand } from "../command.ts";

export const serverCommand: RawCommand = {
  name: "server",
  synopsis: "[--host 127.0.0.1] [--port 8080] [--data ./sori-data]",
  summary: "run a server (all its options: sori server --help)",
  runRaw: async (argv) => {
    // Loaded here: the server's modules are not needed by any other command.
    const { runServerCommand } = await import("@sori/server");
    return runServerCommand(argv);
  },
};
