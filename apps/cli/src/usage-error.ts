/** A command line `sori` cannot run as given: exit code 2, the message on stderr. */
export class UsageError extends Error {
  readonly code = "usage";
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}
