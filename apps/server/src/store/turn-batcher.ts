/**
 * Collects what is queued during one event-loop turn and hands it over as one array at the next
 * (setImmediate). Both sides of the store thread use it: one postMessage per turn instead of one per
 * call or reply, so a committed batch of hundreds of writes, or all the frames read from all sockets
 * in one turn, crosses the thread boundary together.
 */
export function turnBatcher<T>(flush: (batch: T[]) => void): (item: T) => void {
  let pending: T[] = [];
  let scheduled = false;
  return (item: T): void => {
    pending.push(item);
    if (scheduled) return;
    scheduled = true;
    setImmediate(() => {
      scheduled = false;
      const batch = pending;
      pending = [];
      flush(batch);
    });
  };
}
