/**
 * Where two people stand, seen from one side: this user asked them (`asked-them`), they asked this
 * user (`asked-me`), both agreed (`accepted`), or the last request was turned down (`declined`).
 * No relation at all is the absence of a record.
 */
export type ContactState = "asked-them" | "asked-me" | "accepted" | "declined";

/** What either side can do; travels as the `op` of a `contact` content. */
export type ContactOp = "request" | "accept" | "decline" | "withdraw";

/** Who did something: this user (on any of their devices) or the other person. */
export type ContactSide = "me" | "them";

/** A relation as stored: its state and who made the last change (who declined, for instance). */
export type ContactRelation = { state: ContactState; by: ContactSide };

/**
 * The relation after `by` did `op`, or `current` unchanged when the op means nothing now: an answer
 * only answers a request of the other side (accept only what was asked), a request while one is
 * pending is that same request, a request after a decline starts over, and two requests that cross
 * make both sides contacts. Every device of both people applies this to the ops of their direct chat
 * in the order the server delivered them, so they agree.
 */
export function nextRelation(
  current: ContactRelation | undefined,
  op: ContactOp,
  by: ContactSide,
): ContactRelation | undefined {
  const state = current?.state;
  // The state in which `by` is the one who was asked (so may answer).
  const askedOfBy: ContactState = by === "me" ? "asked-me" : "asked-them";
  const askedByBy: ContactState = by === "me" ? "asked-them" : "asked-me";
  switch (op) {
    case "request":
      if (state === "accepted" || state === askedByBy) return current;
      // The other side asked already: asking back is agreeing.
      if (state === askedOfBy) return { state: "accepted", by };
      return { state: askedByBy, by };
    case "accept":
      return state === askedOfBy ? { state: "accepted", by } : current;
    case "decline":
      return state === askedOfBy ? { state: "declined", by } : current;
    case "withdraw":
      // Withdrawing takes back one's own request or ends the contact; it cannot cancel the other
      // side's pending request (that is declining).
      return state === undefined || state === askedOfBy ? current : undefined;
  }
}

/** Whether two relations say the same (both absent counts). */
export function sameRelation(a: ContactRelation | undefined, b: ContactRelation | undefined): boolean {
  return a?.state === b?.state && a?.by === b?.by;
}
