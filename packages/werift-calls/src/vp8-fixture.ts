/**
 * One RTP payload carrying a complete VP8 keyframe (a 1×1 picture): the payload descriptor byte 0x10
 * (start of partition 0, RFC 7741) followed by the 22-byte frame. The frame is the VP8 chunk of the
 * well-known smallest lossy WebP image (the one browsers' WebP feature checks decode), so any VP8
 * decoder accepts it; `sori call --video` repeats it as its "camera".
 */
export const VP8_KEYFRAME: Uint8Array = new Uint8Array([
  0x10, 0x30, 0x01, 0x00, 0x9d, 0x01, 0x2a, 0x01, 0x00, 0x01, 0x00, 0x0e, 0xc0, 0xfe, 0x25, 0xa4, 0x00, 0x03,
  0x70, 0x00, 0x00, 0x00, 0x00,
]);
