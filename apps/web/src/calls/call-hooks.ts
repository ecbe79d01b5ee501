import type { Call } from "@sori/sdk";
import { useEffect, useState } from "react";
import { useProfile } from "../hooks/use-profile.ts";
import { phonePartyLabel } from "../lib/dial-target.ts";
import type { CallView } from "./call-store.ts";
import { playRingTone } from "./ring-tone.ts";

/** The other person's display name (profile name, else username). */
export function usePeerName(call: Call): string {
  const profile = useProfile(call.peer.userId);
  const owner = call.lineOwner;
  const ownerProfile = useProfile(owner?.userId ?? null);
  // A person's own phone line (checked against their profile by the SDK) is that person, whichever
  // gateway carries it.
  if (owner) return ownerProfile.displayName ?? owner.username;
  // Any other call a gateway bridges is with the party on the phone line, not with the gateway.
  if (call.via) {
    const party = phonePartyLabel(call.via.uri);
    return call.via.name ? `${call.via.name} (${party})` : party;
  }
  return profile.displayName ?? call.peer.username;
}

/** Whose face to show: the owner of the phone line on the other end, else the other side. */
export function callAvatarUser(call: Call): { userId: string; username: string } {
  return call.lineOwner ?? call.peer;
}

/** Plays a ring tone while `on`. */
export function useRing(kind: "incoming" | "ringback", on: boolean): void {
  useEffect(() => (on ? playRingTone(kind) : undefined), [kind, on]);
}

/** Seconds since `from`, ticking once a second. */
export function useElapsed(from: number | null, running: boolean): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!running) return;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [running]);
  return from === null ? 0 : Math.max(0, Math.floor((now - from) / 1000));
}

/** Plays the remote side's tracks (the receivers exist from the start; they carry media once connected). */
export function useRemoteStream(view: CallView): MediaStream | null {
  const [stream, setStream] = useState<MediaStream | null>(null);
  const transceivers = view.call.transceivers;
  useEffect(() => {
    if (!transceivers || stream) return;
    const tracks = [transceivers.audio, transceivers.video]
      .map((t) => (t as unknown as RTCRtpTransceiver).receiver?.track)
      .filter((t): t is MediaStreamTrack => Boolean(t));
    setStream(new MediaStream(tracks));
  }, [transceivers, stream]);
  return stream;
}
