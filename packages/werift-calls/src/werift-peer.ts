import type { PeerConnectionConfig } from "@sori/sdk";
import { RTCPeerConnection, type RTCRtpCodecParameters } from "werift";

/**
 * A werift peer connection for one Sori call: the call's ICE servers and policy, the codecs given,
 * 127.0.0.1 candidates only when `loopback` (tests and benchmarks on one machine), and werift's ICE
 * restart made to work (below).
 */
export function weriftPeerConnection(
  config: PeerConnectionConfig,
  o: { loopback: boolean; audio: RTCRtpCodecParameters[]; video: RTCRtpCodecParameters[] },
): RTCPeerConnection {
  const pc = new RTCPeerConnection({
    iceServers: config.iceServers.map((s) => ({
      urls: Array.isArray(s.urls) ? s.urls[0]! : s.urls,
      ...(s.username !== undefined ? { username: s.username } : {}),
      ...(s.credential !== undefined ? { credential: s.credential } : {}),
    })),
    iceTransportPolicy: config.iceTransportPolicy,
    bundlePolicy: "max-bundle",
    codecs: { audio: o.audio, video: o.video },
    ...(o.loopback
      ? {
          iceUseIpv6: false,
          iceAdditionalHostAddresses: ["127.0.0.1"],
          iceInterfaceAddresses: { udp4: "127.0.0.1" },
        }
      : {}),
  });
  patchIceRestart(pc);
  return pc;
}

/**
 * werift 0.25 restarts ICE (new credentials, new candidates) but, with DTLS already up, never runs
 * connectivity checks for the new generation, so no pair is nominated and media stops. Once an
 * offer/answer round completes, start ICE again on every transport that lost its nominated pair.
 */
function patchIceRestart(pc: RTCPeerConnection): void {
  const kick = (): void => {
    for (const dtls of pc.dtlsTransports) {
      const ice = dtls.iceTransport;
      if (dtls.state === "connected" && !ice.connection.nominated && ice.connection.remoteUsername)
        void ice.start().catch(() => undefined);
    }
  };
  const setLocal = pc.setLocalDescription.bind(pc) as (d: { type: string; sdp?: string }) => Promise<unknown>;
  const setRemote = pc.setRemoteDescription.bind(pc);
  Object.assign(pc, {
    setLocalDescription: async (d: { type: string; sdp?: string }) => {
      const r = await setLocal(d);
      if (d.type === "answer") kick();
      return r;
    },
    setRemoteDescription: async (d: Parameters<RTCPeerConnection["setRemoteDescription"]>[0]) => {
      await setRemote(d);
      if (d.type === "answer") kick();
    },
  });
}
