export { type PacketCounters, type WeriftPlatformOptions, weriftPlatform } from "./werift-platform.ts";
export { weriftPeerConnection } from "./werift-peer.ts";
export { type EventSender, sendTelephoneEvent } from "./telephone-event.ts";
export { linearToMulaw, mulawToLinear, PCMU_FRAME_SAMPLES, ToneSource } from "./tone.ts";
