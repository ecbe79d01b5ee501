/** What one request to a push service came to: its status (and Retry-After), or no answer at all. */
export type PushAttempt = { status: number; retryAfterMs?: number | undefined } | { failed: string };

/**
 * How a push ended: delivered to the push service, the subscription is gone (404/410: drop it), the
 * push service refused it for good (other 4xx: logged, not retried), or it gave up retrying.
 */
export type PushOutcome = "sent" | "gone" | "refused" | "gave-up";

export type RetryTimings = {
  /** Requests at most, the first included. */
  attempts: number;
  /** The first wait before a retry; each further one doubles (with jitter: between half and all of it). */
  baseMs: number;
  /** No wait is longer than this, Retry-After included. */
  maxWaitMs: number;
};

export const DEFAULT_RETRY: RetryTimings = { attempts: 4, baseMs: 1000, maxWaitMs: 60_000 };

/**
 * After attempt number `n` (1 for the first), whether to stop and how it ended, or how long to wait
 * before the next one. Retried: 429, 5xx and no answer, honouring Retry-After, within `attempts` and
 * only while the next try starts before `deadline` (a wake-up for a call is useless after the ring).
 * Pure: the caller owns the clock and the timers.
 */
export function afterAttempt(
  attempt: PushAttempt,
  n: number,
  now: number,
  deadline: number,
  timings: RetryTimings,
  random: () => number = Math.random,
): { done: PushOutcome } | { retryInMs: number } {
  if ("status" in attempt) {
    const { status } = attempt;
    if (status >= 200 && status < 300) return { done: "sent" };
    if (status === 404 || status === 410) return { done: "gone" };
    if (status !== 429 && status < 500) return { done: "refused" };
  }
  if (n >= timings.attempts) return { done: "gave-up" };
  const backoff = timings.baseMs * 2 ** (n - 1);
  const asked = "status" in attempt ? attempt.retryAfterMs : undefined;
  const wait = asked ?? backoff * (0.5 + random() / 2);
  if (wait > timings.maxWaitMs || now + wait > deadline) return { done: "gave-up" };
  return { retryInMs: wait };
}

/** A Retry-After header (seconds, or an HTTP date) in ms from `now`; undefined if absent or unreadable. */
export function retryAfterMs(header: string | undefined, now: number): number | undefined {
  if (header === undefined) return undefined;
  const text = header.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
