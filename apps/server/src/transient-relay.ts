import { ProtocolError, toBase64, type WireRelay, type WireResultOf } from "@sori/protocol";
import type { Store } from "./store/store.ts";

/** The part of a `send` frame a transient message needs. */
export type TransientSend = { groupId: string; epoch: number; messageId: string; data: Uint8Array };

/**
 * A transient message (call signalling): checked like any message (the sender is a member, the epoch
 * is current) but never stored. It is handed to `push` for every other member device; devices that are
 * not connected simply miss it, which is right for signalling that is stale within seconds.
 */
export async function relayTransient(
  store: Store,
  sender: { userId: string; deviceId: string },
  message: TransientSend,
  now: number,
  push: (deviceIds: string[], frame: WireRelay) => void,
): Promise<WireResultOf<"send">> {
  const group = await store.getGroup(message.groupId);
  const member = group?.members.find((m) => m.deviceId === sender.deviceId && !m.revoked);
  if (!group || !member) throw new ProtocolError("not-member", "this device is not a member of that group");
  if (group.epoch !== message.epoch) {
    throw new ProtocolError(
      "stale-epoch",
      `the group is at epoch ${group.epoch}; process pending messages and retry`,
      { epoch: group.epoch },
    );
  }
  const recipients = group.members.filter((m) => !m.revoked && m.deviceId !== sender.deviceId);
  push(
    recipients.map((m) => m.deviceId),
    {
      type: "relay",
      groupId: message.groupId,
      messageId: message.messageId,
      from: { userId: sender.userId, deviceId: sender.deviceId },
      epoch: message.epoch,
      data: toBase64(message.data),
      sentAt: now,
    },
  );
  return { messageId: message.messageId, sentAt: now, duplicate: false };
}
