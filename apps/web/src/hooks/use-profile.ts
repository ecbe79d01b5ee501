import { useEffect, useSyncExternalStore } from "react";
import { useSignedIn } from "../session/client-context.ts";
import type { ProfileView } from "../session/profile-store.ts";

/** A user's display name and avatar, loaded on first use and kept current. */
export function useProfile(userId: string | null): ProfileView {
  const { profiles } = useSignedIn();
  useEffect(() => {
    if (userId) profiles.ensure(userId);
  }, [profiles, userId]);
  return useSyncExternalStore(profiles.subscribe, () => (userId ? profiles.peek(userId) : profiles.peek("")));
}
