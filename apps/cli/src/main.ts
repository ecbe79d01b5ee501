// The `sori` process: runs the command line with this process's streams, terminal and environment.
import { processIo } from "./process-io.ts";
import { run } from "./run.ts";

process.exitCode = await run(process.argv.slice(2), processIo());
