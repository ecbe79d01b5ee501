import { toBase64Url } from "./bytes.ts";
import type { MessageHeader } from "./types.ts";
import { decodeWire } from "./wire.ts";

/** Reads the cleartext framing of an MLS message (no keys needed); "malformed" on garbage. */
export function readMessageHeader(message: Uint8Array): MessageHeader {
  const decoded = decodeWire(message, "readMessageHeader");
  switch (decoded.wireformat) {
    case "mls_private_message": {
      const pm = decoded.privateMessage;
      return {
        wireFormat: "private",
        groupId: toBase64Url(pm.groupId),
        epoch: pm.epoch,
        contentType: pm.contentType,
      };
    }
    case "mls_public_message": {
      const content = decoded.publicMessage.content;
      return {
        wireFormat: "public",
        groupId: toBase64Url(content.groupId),
        epoch: content.epoch,
        contentType: content.contentType,
      };
    }
    case "mls_group_info": {
      const context = decoded.groupInfo.groupContext;
      return {
        wireFormat: "group-info",
        groupId: toBase64Url(context.groupId),
        epoch: context.epoch,
        contentType: undefined,
      };
    }
    case "mls_welcome":
      return { wireFormat: "welcome", groupId: undefined, epoch: undefined, contentType: undefined };
    case "mls_key_package":
      return { wireFormat: "key-package", groupId: undefined, epoch: undefined, contentType: undefined };
  }
}
