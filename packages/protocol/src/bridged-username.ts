import { BRIDGED_USERNAME_PATTERN } from "./limits.ts";

/** The parts of a bridged identity's username, or undefined for a plain username. */
export function splitBridgedUsername(username: string): { namespace: string; address: string } | undefined {
  const m = BRIDGED_USERNAME_PATTERN.exec(username);
  return m ? { namespace: m[1]!, address: m[2]! } : undefined;
}
