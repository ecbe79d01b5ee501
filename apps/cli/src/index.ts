// The CLI as a library: the command runner and an in-memory terminal, for running `sori` commands
// inside another program (the tests do, without spawning). Calls in Node (werift) are a package of their
// own, @sori/werift-calls, so tests and benchmarks that only need calls load no command.
export type { CliIo } from "./cli-io.ts";
export { type MemoryIo, type MemoryIoOptions, memoryIo } from "./memory-io.ts";
export { run } from "./run.ts";
