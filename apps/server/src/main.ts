import { runServerCommand } from "./run.ts";

const code = await runServerCommand(process.argv.slice(2));
process.exit(code);
