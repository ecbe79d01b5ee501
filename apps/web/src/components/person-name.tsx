import type { ReactNode } from "react";
import { showsUsername } from "../lib/person-name.ts";
import "./person-name.css";

/**
 * A person's name on screen: the display name (else the username) in a <bdi>, so its direction stays its
 * own; with `withUsername` (groups, see showsUsername) their @username beside it, in the secondary colour.
 */
export function PersonName({
  displayName,
  username,
  withUsername,
}: {
  /** Already cleaned (ProfileStore does), or null. */
  displayName: string | null;
  username: string;
  withUsername: boolean;
}): ReactNode {
  if (!withUsername || !showsUsername(displayName, username)) return <bdi>{displayName ?? username}</bdi>;
  return (
    <>
      <bdi>{displayName}</bdi> <span className="person-username">(@{username})</span>
    </>
  );
}
