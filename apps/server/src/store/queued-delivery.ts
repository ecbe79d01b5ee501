import type { OutgoingMessage, QueuedDelivery } from "./store.ts";

/**
 * The delivery a recipient's queue entry `seq` stands for. The one place it is built, so the store
 * thread's compact answer (thread-messages.ts) rebuilds exactly what the store enqueued.
 */
export function queuedDelivery(m: Omit<OutgoingMessage, "recipients">, seq: number): QueuedDelivery {
  return {
    seq,
    kind: m.kind,
    groupId: m.groupId,
    messageId: m.messageId,
    senderUserId: m.senderUserId,
    senderDeviceId: m.senderDeviceId,
    epoch: m.epoch,
    data: m.data,
    sentAt: m.sentAt,
  };
}
