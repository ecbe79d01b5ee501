import type { SipSource } from "./sip-format.ts";
import {
  formatUri,
  headerValue,
  parseContact,
  parseSipUri,
  splitList,
  type SipRequest,
  type SipUri,
} from "./sip-message.ts";

/** One registered contact of an address-of-record (RFC 3261 §10.3). */
export type Binding = {
  /** The Contact URI, formatted again from the parsed one: where INVITEs for the AOR go. */
  contact: string;
  /** When the binding lapses, ms (the caller's clock). */
  expiresAt: number;
  /** Call-ID and CSeq of the REGISTER that made it, to refuse older requests (§10.3 step 7). */
  callId: string;
  cseq: number;
  /** The SIP credential (phone line) that registered it: revoking the line drops its bindings. */
  lineId: string;
  /** Where the REGISTER came from: behind NAT, the only address that reaches the phone. */
  source: SipSource;
};

export type RegistrarOptions = {
  /** Below this (seconds, non-zero) a registration is refused with 423 (default 60). */
  minExpires?: number;
  /** Longer registrations are shortened to this (default 3600). */
  maxExpires?: number;
  /** When neither the Contact nor the request says (default 3600, RFC 3261 §10.2.1.1). */
  defaultExpires?: number;
  /** Bindings one line may hold per AOR (default 5); a newer one replaces the oldest. */
  maxBindingsPerLine?: number;
};

export type RegisterInput = {
  aor: string;
  lineId: string;
  request: SipRequest;
  source: SipSource;
  now: number;
};

/** The 200: every live binding of the AOR as a Contact with its remaining `expires`, and a Date. */
export type RegisterOk = {
  status: 200;
  /** The Contact headers alone. */
  contacts: [string, string][];
  /** Contacts and Date, ready for ServerTransaction.respond. */
  headers: [string, string][];
  bindings: Binding[];
};

/** A refusal; nothing was changed. `reason` is for logs (or a Warning header). */
export type RegisterRefused = {
  status: 400 | 403 | 423 | 500;
  headers: [string, string][];
  reason: string;
};

export type RegisterResult = RegisterOk | RegisterRefused;

/** What toJSON writes and fromJSON reads. */
export type RegistrarJson = { version: 1; bindings: (Binding & { aor: string })[] };

type Stored = { binding: Binding; key: string };

/** How long a phone whose REGISTER arrived out of order waits before it tries again (seconds). */
const OUT_OF_ORDER_RETRY_AFTER_S = 5;
const MAX_ID_LENGTH = 256;
const MAX_CONTACT_LENGTH = 2048;

/**
 * The registrar's bindings (RFC 3261 §10.3 steps 6–8), in memory and pure: the caller has
 * authenticated the request and chosen the AOR and line (steps 1–5), and passes `now`.
 *
 * Decisions where the RFC leaves room:
 * - A REGISTER whose Call-ID matches a binding's and whose CSeq is not higher is refused whole
 *   with 500 and Retry-After, nothing changed, as step 7 says ("the update MUST be aborted and the
 *   request fails"). Answering 200 and keeping the stored binding would tell the phone it holds a
 *   registration it does not (it would stop being reachable when the old one lapses, silently);
 *   after a 500 it retries with a higher CSeq, which then succeeds. A UA has one REGISTER in
 *   flight at a time (§10.2), so this happens to replays and buggy phones, not to normal ones.
 * - A line at its binding limit that registers a new contact has its least recently registered
 *   binding replaced rather than getting a 403: a phone that restarts on a new port leaves a stale
 *   binding behind for up to an hour, and a 403 would lock the line out for that long. The limit
 *   still bounds memory and INVITE forking per line. Only a single REGISTER carrying more new
 *   contacts than the limit is refused (403), since no replacement can satisfy it.
 * - Bindings are per line: one line's REGISTER (even `*`) never changes another line's bindings of
 *   the same AOR. The 200 lists all of the AOR's bindings, as §10.3 step 8 asks.
 */
export class Registrar {
  readonly #min: number;
  readonly #max: number;
  readonly #default: number;
  readonly #perLine: number;
  /** AOR → bindings; within a line, least recently registered first. */
  readonly #byAor = new Map<string, Stored[]>();

  constructor(options: RegistrarOptions = {}) {
    this.#min = options.minExpires ?? 60;
    this.#max = options.maxExpires ?? 3600;
    this.#default = options.defaultExpires ?? 3600;
    this.#perLine = Math.max(1, options.maxBindingsPerLine ?? 5);
  }

  /** Applies a REGISTER (or answers a query, without Contact) for `aor` as line `lineId`. */
  register(o: RegisterInput): RegisterResult {
    const { aor, lineId, request, now } = o;
    const values = request.headers.filter(([n]) => n === "Contact").flatMap(([, v]) => splitList(v));
    const expiresHeader = headerValue(request, "Expires");
    const requested = expiresHeader === undefined ? undefined : deltaSeconds(expiresHeader);
    if (expiresHeader !== undefined && requested === undefined) return refuse(400, "malformed Expires");
    const live = this.#live(aor, now);
    if (values.length === 0) return this.#ok(aor, now);
    const mine = live.filter((s) => s.binding.lineId === lineId);
    const others = live.filter((s) => s.binding.lineId !== lineId);
    const outOfOrder = (s: Stored): boolean =>
      s.binding.callId === request.callId && request.cseq.seq <= s.binding.cseq;

    if (values.includes("*")) {
      // Step 6: "*" removes every binding, and only with Expires: 0 and nothing else.
      if (values.length > 1) return refuse(400, 'Contact "*" with other contacts');
      if (requested !== 0) return refuse(400, 'Contact "*" without Expires: 0');
      if (mine.some(outOfOrder)) return outOfOrderRefusal();
      this.#set(aor, others);
      return this.#ok(aor, now);
    }

    const updates: { key: string; contact: string; expires: number }[] = [];
    for (const value of values) {
      const parsed = parseContact(value);
      if (!parsed) return refuse(400, "malformed Contact");
      const param = parsed.params.expires;
      const own = param === undefined ? undefined : param === null ? undefined : deltaSeconds(param);
      if (param !== undefined && own === undefined) return refuse(400, "malformed expires parameter");
      const expires = own ?? requested ?? this.#default;
      if (expires > 0 && expires < this.#min)
        return refuse(423, `expires ${expires} below ${this.#min}`, [["Min-Expires", String(this.#min)]]);
      const key = uriKey(parsed.uri);
      // Two updates of one binding in one request: which one holds would be arbitrary.
      if (updates.some((u) => u.key === key)) return refuse(400, "the same Contact twice");
      updates.push({ key, contact: formatUri(parsed.uri), expires: Math.min(expires, this.#max) });
    }

    // Step 7, all or nothing (§10.3: committed only if every update succeeds).
    let kept = mine;
    const fresh: Stored[] = [];
    for (const u of updates) {
      const existing = kept.find((s) => s.key === u.key);
      if (existing && outOfOrder(existing)) return outOfOrderRefusal();
      if (existing) kept = kept.filter((s) => s !== existing);
      if (u.expires > 0)
        fresh.push({
          key: u.key,
          binding: {
            contact: u.contact,
            expiresAt: now + u.expires * 1000,
            callId: request.callId,
            cseq: request.cseq.seq,
            lineId,
            source: { ...o.source },
          },
        });
    }
    if (fresh.length > this.#perLine)
      return refuse(403, `more than ${this.#perLine} contacts in one REGISTER`);
    // Refreshed and new bindings go last: the ones dropped to make room are the least recently registered.
    const line = [...kept, ...fresh];
    this.#set(aor, [...others, ...line.slice(Math.max(0, line.length - this.#perLine))]);
    return this.#ok(aor, now);
  }

  /** The live bindings of an AOR (expired ones are dropped on the way). */
  contactsOf(aor: string, now: number): Binding[] {
    return this.#live(aor, now).map((s) => copy(s.binding));
  }

  /** Drops every binding of a line, in every AOR (the line's credentials were revoked); the count. */
  removeLine(lineId: string): number {
    let removed = 0;
    for (const [aor, list] of [...this.#byAor]) {
      const rest = list.filter((s) => s.binding.lineId !== lineId);
      removed += list.length - rest.length;
      this.#set(aor, rest);
    }
    return removed;
  }

  /** Drops every expired binding; the count. */
  sweep(now: number): number {
    let removed = 0;
    for (const [aor, list] of [...this.#byAor]) removed += list.length - this.#live(aor, now).length;
    return removed;
  }

  /** Bindings held, expired ones included until they are swept. */
  get size(): number {
    let n = 0;
    for (const list of this.#byAor.values()) n += list.length;
    return n;
  }

  toJSON(): RegistrarJson {
    const bindings: (Binding & { aor: string })[] = [];
    for (const [aor, list] of this.#byAor) for (const s of list) bindings.push({ aor, ...copy(s.binding) });
    return { version: 1, bindings };
  }

  /**
   * Bindings saved by toJSON, read back after a restart. The file is input like any other: an
   * entry that is malformed, expired, too far in the future, repeated or beyond a line's limit is
   * skipped (and reported to `onSkip`), never trusted.
   */
  static fromJSON(
    data: unknown,
    now: number,
    options: RegistrarOptions & { onSkip?: (index: number, reason: string) => void } = {},
  ): Registrar {
    const registrar = new Registrar(options);
    const skip = (index: number, reason: string): void => options.onSkip?.(index, reason);
    if (!isRecord(data) || data.version !== 1 || !Array.isArray(data.bindings)) {
      skip(-1, "not a registrar file of version 1");
      return registrar;
    }
    const indexOf = new Map<Stored, number>();
    data.bindings.forEach((entry: unknown, index) => {
      const read = readEntry(entry);
      if (typeof read === "string") return skip(index, read);
      const { aor, binding, key } = read;
      if (binding.expiresAt <= now) return skip(index, "expired");
      if (binding.expiresAt > now + registrar.#max * 1000) return skip(index, "expires beyond the maximum");
      let list = registrar.#byAor.get(aor) ?? [];
      const line = list.filter((s) => s.binding.lineId === binding.lineId);
      if (line.some((s) => s.key === key)) return skip(index, "repeated binding");
      // The file lists a line's bindings oldest first (as toJSON writes them): the oldest go.
      if (line.length >= registrar.#perLine) {
        const oldest = line[0]!;
        skip(indexOf.get(oldest) ?? -1, "beyond the line's binding limit");
        list = list.filter((s) => s !== oldest);
      }
      const stored = { binding, key };
      indexOf.set(stored, index);
      registrar.#set(aor, [...list, stored]);
    });
    return registrar;
  }

  #live(aor: string, now: number): Stored[] {
    const list = this.#byAor.get(aor) ?? [];
    const live = list.filter((s) => s.binding.expiresAt > now);
    if (live.length !== list.length) this.#set(aor, live);
    return live;
  }

  #set(aor: string, list: Stored[]): void {
    if (list.length === 0) this.#byAor.delete(aor);
    else this.#byAor.set(aor, list);
  }

  #ok(aor: string, now: number): RegisterOk {
    const bindings = this.contactsOf(aor, now);
    // Rounded up: a binding with half a second left is still there, and "expires=0" would say it is not.
    const contacts = bindings.map((b): [string, string] => [
      "Contact",
      `<${b.contact}>;expires=${Math.ceil((b.expiresAt - now) / 1000)}`,
    ]);
    return { status: 200, contacts, headers: [...contacts, ["Date", new Date(now).toUTCString()]], bindings };
  }
}

function refuse(
  status: RegisterRefused["status"],
  reason: string,
  headers: [string, string][] = [],
): RegisterRefused {
  return { status, headers, reason };
}

function outOfOrderRefusal(): RegisterRefused {
  return refuse(500, "REGISTER out of order: CSeq not above the binding's for the same Call-ID", [
    ["Retry-After", String(OUT_OF_ORDER_RETRY_AFTER_S)],
  ]);
}

/** delta-seconds (RFC 3261 §25.1), bounded as the parser bounds Expires. */
function deltaSeconds(value: string): number | undefined {
  return /^\d{1,10}$/.test(value.trim()) ? Number(value.trim()) : undefined;
}

/**
 * Which binding a Contact names: the URI with its parameters in a fixed order (RFC 3261 §19.1.4
 * compares parameters regardless of order; host and parameter names are already lower case).
 */
function uriKey(u: SipUri): string {
  const params = Object.fromEntries(
    Object.entries(u.params).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
  );
  return formatUri({ ...u, params });
}

function copy(b: Binding): Binding {
  return { ...b, source: { ...b.source } };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function isId(v: unknown): v is string {
  // eslint-disable-next-line no-control-regex -- control characters could end up in a header or a log
  return typeof v === "string" && v.length > 0 && v.length <= MAX_ID_LENGTH && !/[\x00-\x1f\x7f]/.test(v);
}

function readEntry(entry: unknown): { aor: string; binding: Binding; key: string } | string {
  if (!isRecord(entry)) return "not an object";
  const { aor, contact, expiresAt, callId, cseq, lineId, source } = entry;
  if (!isId(aor) || !isId(lineId) || !isId(callId)) return "bad aor, lineId or callId";
  if (typeof contact !== "string" || contact.length > MAX_CONTACT_LENGTH) return "bad contact";
  const uri = parseSipUri(contact);
  if (!uri) return "bad contact";
  if (typeof expiresAt !== "number" || !Number.isFinite(expiresAt)) return "bad expiresAt";
  if (typeof cseq !== "number" || !Number.isInteger(cseq) || cseq < 0 || cseq > 2 ** 31 - 1)
    return "bad cseq";
  if (!isRecord(source)) return "bad source";
  const { address, port, transport } = source;
  if (!isId(address) || typeof port !== "number" || !Number.isInteger(port) || port < 1 || port > 65535)
    return "bad source";
  if (transport !== "UDP" && transport !== "TCP" && transport !== "TLS") return "bad source transport";
  return {
    aor,
    key: uriKey(uri),
    binding: {
      contact: formatUri(uri),
      expiresAt,
      callId,
      cseq,
      lineId,
      source: { address, port, transport },
    },
  };
}
