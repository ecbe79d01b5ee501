import { open, readFile, rename } from "node:fs/promises";
import { join } from "node:path";
import {
  type ContactChange,
  type ContactSide,
  type ContactState,
  SdkError,
  type SoriClient,
} from "@sori/sdk";
import { TokenBuckets } from "@sori/server";
import type { GatewayContext } from "./gateway-context.ts";
import { codeOf } from "./inbound.ts";
import { type BareJid, bridgedUsernameOf, jidOfBridged, jidText, soriUsernameAt } from "./jid.ts";
import {
  availability,
  type PresenceStanza,
  type SubscriptionType,
  subscriptionStanza,
} from "./presence-stanzas.ts";
import type { XmlElement } from "./xmpp-library.ts";

/** Subscription requests one XMPP address may make: bursts of 10, then one per 10 s. */
const REQUESTS_BURST = 10;
const REQUESTS_PER_SECOND = 0.1;
/** How long a Sori user's existence is taken as known before asking the directory again. */
const USER_TTL_MS = 60_000;

/**
 * What the XMPP side was last told about one Sori user, on the Sori user's behalf:
 * `subscribe` (they ask the XMPP user), `subscribed` (they approved the XMPP user, who sees their
 * presence), `unsubscribed` (they declined). The end of a contact is told once and then forgotten.
 */
type Told = "subscribe" | "subscribed" | "unsubscribed";
type Tell = Told | "ended";
/** Per bridged identity (its username), per Sori username: what was told. */
type ToldFile = Record<string, Record<string, Told>>;

/**
 * Presence and roster subscriptions (RFC 6121) as Sori contact requests. The Sori user decides: an
 * XMPP user's `subscribe` to `alice@<domain>` becomes their identity's contacts.request("alice"),
 * and nothing of Alice's (no presence, no answer) goes out until Alice accepts; her answer is sent as
 * `subscribed` (with her presence) or `unsubscribed`. The other way, Alice's request to
 * `xmpp:juliet@…` is sent as `subscribe` and Juliet's `subscribed` / `unsubscribed` is her identity's
 * accept / decline. Probes and every other presence from anyone who is not an accepted contact get
 * nothing, for existing and unknown users alike. Presence of XMPP users is not passed on to Sori.
 *
 * What was told is kept in `subscriptions.json` beside the identities, so a change the XMPP server
 * could not take (the component offline, the gateway restarting) goes out when it is back.
 */
export class Subscriptions {
  readonly #ctx: GatewayContext;
  readonly #path: string;
  readonly #rate = new TokenBuckets(REQUESTS_BURST, REQUESTS_PER_SECOND);
  readonly #users = new Map<string, { exists: boolean; until: number }>();
  /** One chain per XMPP address, both directions, so its steps are taken in the order they came. */
  readonly #chains = new Map<string, Promise<void>>();
  #told: ToldFile = {};
  #saving: Promise<void> = Promise.resolve();

  constructor(ctx: GatewayContext, dataDir: string) {
    this.#ctx = ctx;
    this.#path = join(dataDir, "subscriptions.json");
  }

  /** Reads what was told before (before identities connect and report changes). */
  async load(): Promise<void> {
    try {
      // The gateway's own file, written only by #record below.
      this.#told = JSON.parse(await readFile(this.#path, "utf8")) as ToldFile;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    }
  }

  /** A presence stanza from the XMPP network (not one for a room). */
  handle(p: PresenceStanza): void {
    if (p.kind === "ignored") return;
    const username = soriUsernameAt(p.to, this.#ctx.domain);
    if (!username) return;
    this.#inOrder(jidText(p.from), () => this.#fromXmpp(p, username));
  }

  /** An identity's contact relation changed (the SDK's `contact` event): tell its XMPP user. */
  contactChanged(identity: string, change: ContactChange): void {
    const jid = jidOfBridged(identity);
    if (!jid || !isPlainUsername(change.username)) return;
    this.#inOrder(jidText(jid), () => this.#sync(identity, jid, change.username, change));
  }

  /** The component is (back) online: tell every XMPP user what they were not told yet. */
  online(): void {
    for (const [identity, client] of this.#ctx.identities.all()) {
      const jid = jidOfBridged(identity);
      if (!jid) continue;
      this.#inOrder(jidText(jid), async () => {
        const contacts = await client.contacts.list();
        const seen = new Set<string>();
        for (const c of contacts) {
          if (!isPlainUsername(c.username)) continue;
          seen.add(c.username);
          await this.#sync(identity, jid, c.username, c);
        }
        for (const username of Object.keys(this.#told[identity] ?? {}))
          if (!seen.has(username)) await this.#sync(identity, jid, username, undefined);
      });
    }
  }

  /** Resolves once every step taken so far is done. */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.#chains.values()]);
    await this.#saving;
  }

  async #fromXmpp(p: Exclude<PresenceStanza, { kind: "ignored" }>, username: string): Promise<void> {
    const ctx = this.#ctx;
    const bridged = bridgedUsernameOf(p.from);
    if (p.kind === "subscription" && p.type === "subscribe") {
      if (this.#rate.take(jidText(p.from)) > 0 || !(await this.#userExists(username))) {
        ctx.counters.dropped++;
        return;
      }
      const identity = await ctx.identities.ensure(bridged);
      const contact = await identity.contacts.request(username);
      // Contacts already (asked again, say after a roster was lost) or just now (both asked): approve
      // at once, as servers do for a subscription they approved before.
      if (contact.state === "accepted") await this.#tell(bridged, p.from, username, "subscribed");
      return;
    }
    // Everything else concerns a relation the identity has already; without one there is nothing.
    const identity = ctx.identities.get(bridged);
    const contact = await identity?.contacts.get(username);
    if (!identity || !contact) return;
    if (p.kind === "probe") {
      if (contact.state === "accepted")
        await this.#send([availability(addressOf(username, ctx.domain), jidText(p.from), true)]);
      return;
    }
    await answer(identity, username, contact.state, p.type);
  }

  /** Brings what the XMPP user was told about `username` in line with the relation (or its end). */
  async #sync(
    identity: string,
    jid: BareJid,
    username: string,
    relation: { state: ContactState | "none"; by: ContactSide } | undefined,
  ): Promise<void> {
    const told = this.#told[identity]?.[username];
    const want = relation
      ? tellOf(relation)
      : told === "subscribe" || told === "subscribed"
        ? "ended"
        : undefined;
    if (want === undefined) return this.#record(identity, username, undefined);
    if (want === told) return;
    await this.#tell(identity, jid, username, want);
  }

  async #tell(identity: string, jid: BareJid, username: string, tell: Tell): Promise<void> {
    const from = addressOf(username, this.#ctx.domain);
    const to = jidText(jid);
    const stanzas: Record<Tell, XmlElement[]> = {
      subscribe: [subscriptionStanza(from, to, "subscribe")],
      subscribed: [subscriptionStanza(from, to, "subscribed"), availability(from, to, true)],
      unsubscribed: [subscriptionStanza(from, to, "unsubscribed")],
      // Neither side sees the other any more, and a request still pending is taken back.
      ended: [
        subscriptionStanza(from, to, "unsubscribed"),
        subscriptionStanza(from, to, "unsubscribe"),
        availability(from, to, false),
      ],
    };
    // Not sent (offline): left as it was, to be told when the component is back.
    if (!(await this.#send(stanzas[tell]))) return;
    await this.#record(identity, username, tell === "ended" ? undefined : tell);
  }

  async #send(stanzas: XmlElement[]): Promise<boolean> {
    for (const s of stanzas) if (!(await this.#ctx.send(s))) return false;
    return true;
  }

  async #record(identity: string, username: string, told: Told | undefined): Promise<void> {
    const entries = this.#told[identity] ?? {};
    if (entries[username] === told) return;
    if (told) entries[username] = told;
    else delete entries[username];
    if (Object.keys(entries).length > 0) this.#told[identity] = entries;
    else delete this.#told[identity];
    const snapshot = JSON.stringify(this.#told);
    this.#saving = this.#saving.then(() => writeAtomically(this.#path, snapshot));
    await this.#saving;
  }

  #inOrder(key: string, run: () => Promise<void>): void {
    const next = (this.#chains.get(key) ?? Promise.resolve()).then(() =>
      run().catch((error: unknown) => {
        this.#ctx.log.warn("xmpp.subscription_failed", { reason: codeOf(error) });
      }),
    );
    this.#chains.set(key, next);
    void next.finally(() => {
      if (this.#chains.get(key) === next) this.#chains.delete(key);
    });
  }

  /** Whether a Sori username exists (cached): unknown ones get the same silence as undecided ones. */
  async #userExists(username: string): Promise<boolean> {
    const known = this.#users.get(username);
    if (known && known.until > Date.now()) return known.exists;
    const exists = (await this.#ctx.gateway.findUser(username)) !== undefined;
    this.#users.set(username, { exists, until: Date.now() + USER_TTL_MS });
    return exists;
  }
}

/** The XMPP user's answer or withdrawal, as their identity's step; anything that fits no state is nothing. */
async function answer(
  identity: SoriClient,
  username: string,
  state: ContactState,
  type: SubscriptionType,
): Promise<void> {
  try {
    if (type === "subscribed" && state === "asked-me") await identity.contacts.accept(username);
    // Refusing a request declines it; revoking an approval (or taking back one's own ask) ends it.
    else if (type === "unsubscribed" && state === "asked-me") await identity.contacts.decline(username);
    else if (type === "unsubscribed" && state === "accepted") await identity.contacts.remove(username);
    else if (type === "unsubscribe" && (state === "asked-them" || state === "accepted"))
      await identity.contacts.remove(username);
  } catch (error) {
    // The relation moved on meanwhile (the Sori user withdrew): the answer answers nothing.
    if (!(error instanceof SdkError && (error.code === "not-asked" || error.code === "conflict")))
      throw error;
  }
}

/** What the XMPP user is owed about a relation the Sori user (`them`, to the identity) changed. */
function tellOf(r: { state: ContactState | "none"; by: ContactSide }): Tell | undefined {
  if (r.state === "accepted") return "subscribed";
  if (r.by !== "them") return undefined;
  if (r.state === "asked-me") return "subscribe";
  if (r.state === "declined") return "unsubscribed";
  return r.state === "none" ? "ended" : undefined;
}

function addressOf(username: string, domain: string): string {
  return `${username.toLowerCase()}@${domain}`;
}

/** A Sori user the gateway can give an address of its domain (not another bridged identity). */
function isPlainUsername(username: string): boolean {
  return /^[a-z0-9_.-]{3,32}$/i.test(username);
}

async function writeAtomically(path: string, text: string): Promise<void> {
  const tmp = `${path}.tmp`;
  const file = await open(tmp, "w", 0o600);
  try {
    await file.writeFile(text);
    await file.sync();
  } finally {
    await file.close();
  }
  await rename(tmp, path);
}
