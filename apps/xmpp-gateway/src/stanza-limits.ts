import { EventEmitter } from "node:events";
import { xml, type XmlElement, xmlElement, xmlLibrary } from "./xmpp-library.ts";

/** Largest stanza taken from the XMPP server, in bytes (Prosody's and ejabberd's client default). */
export const MAX_STANZA_BYTES = 256 * 1024;
/** Deepest element nesting inside one stanza (XMPP payloads nest a few levels). */
const MAX_STANZA_DEPTH = 32;
/** Past this nesting even a stanza being skipped ends the stream: tracking it would cost memory. */
const MAX_SKIP_DEPTH = 1_024;
/** Longest element or attribute name. */
const MAX_NAME = 512;
/** Largest stream header (`<stream:stream …>`), in characters. */
const MAX_HEADER = 8_192;
/** Attributes of a stanza's top element kept to answer a refused stanza. */
const ANSWER_ATTRS = new Set(["from", "to", "id", "type"]);
/** Characters XML 1.0 does not allow (controls but tab, newline, return; U+FFFE/FFFF; lone surrogates). */
const NOT_XML_CHAR =
  // eslint-disable-next-line no-control-regex -- matching control characters is the point: XML forbids them
  /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/u;

/** Why the stream is unusable: the server gets a stream error and the component connects again. */
export type StreamFaultCode = "not-well-formed" | "restricted-xml" | "policy-violation";

/** Input that breaks the stream itself (RFC 6120 §4.9.3, §11.1). */
export class StreamInputError extends Error {
  readonly code: StreamFaultCode;
  constructor(code: StreamFaultCode, message: string) {
    super(message);
    this.name = "StreamInputError";
    this.code = code;
  }
}

/** Why one stanza was refused while the stream goes on. */
export type StanzaRefusal = "too-large" | "too-deep" | "malformed";

/** A stanza refused whole; `attrs` are its top element's from/to/id/type, if they could be read. */
export type RefusedStanza = { name: string; attrs: Record<string, string>; reason: StanzaRefusal };

type State =
  | "text"
  | "lt"
  | "start-name"
  | "end-name"
  | "end-after"
  | "in-tag"
  | "attr-name"
  | "attr-eq"
  | "attr-quote"
  | "attr-value"
  | "self-close"
  | "bang"
  | "cdata"
  | "pi";

/**
 * The component's input parser, in place of xmpp.js's (which has no size limit, lets one `<!DOCTYPE`
 * swallow the rest of the stream and throws out of the socket's data handler on an unknown entity).
 * It frames the stream into stanzas with a small tokenizer that keeps only the stanza being read, up
 * to `maxStanzaBytes`; each complete stanza is then parsed on its own. Faults of one stanza (too
 * large, too deep, an undefined entity, a character XML forbids) refuse that stanza alone
 * ("refused"); faults of the stream's structure (mismatched tags, a DTD, a comment or processing
 * instruction, which RFC 6120 §11.1 forbids) end the stream ("error"). Same events as xmpp.js's
 * Parser: "start" (the stream header), "element" (a stanza), "end", "error".
 */
export class BoundedStreamParser extends EventEmitter {
  readonly #maxStanzaBytes: number;
  #state: State = "text";
  #failed = false;
  #root: XmlElement | undefined;
  /** Names of the open elements; [0] is the stream's root. */
  readonly #stack: string[] = [];
  #name = "";
  #attrName = "";
  #attrValue = "";
  #quote = "";
  #bang = "";
  #cdataTail = "";
  #prev1 = "";
  /** Attributes of the tag being read, when it is the header or a stanza's top element. */
  #attrs: Record<string, string> = {};
  #attrChars = 0;
  /** The stanza being read: its text so far, and its size. */
  #parts: string[] = [];
  #bytes = 0;
  #recording = false;
  #recordFrom = 0;
  #skipping: StanzaRefusal | undefined;
  #stanzaName = "";
  #stanzaAttrs: Record<string, string> = {};
  #malformedAttrs = false;

  constructor(options: { maxStanzaBytes?: number } = {}) {
    super();
    this.#maxStanzaBytes = options.maxStanzaBytes ?? MAX_STANZA_BYTES;
  }

  write(data: string): void {
    if (this.#failed) return;
    try {
      this.#write(data);
    } catch (error) {
      if (!(error instanceof StreamInputError)) throw error;
      this.#failed = true;
      this.#parts = [];
      this.emit("error", error);
    }
  }

  end(data?: string): void {
    if (data) this.write(data);
  }

  #write(data: string): void {
    this.#recordFrom = 0;
    let pos = 0;
    const n = data.length;
    while (pos < n) {
      const state = this.#state;
      // Fast paths over runs that need no look at each character.
      if (state === "text") {
        const lt = data.indexOf("<", pos);
        const end = lt === -1 ? n : lt;
        if (end > pos && this.#stack.length <= 1) this.#textOutside(data, pos, end);
        if (lt === -1) break;
        this.#lt(lt);
        pos = lt + 1;
        continue;
      }
      if (state === "attr-value") {
        const q = data.indexOf(this.#quote, pos);
        const end = q === -1 ? n : q;
        const run = data.slice(pos, end);
        if (run.includes("<")) throw new StreamInputError("not-well-formed", "'<' in an attribute value");
        this.#attrValue += this.#keepAttr() ? run : "";
        this.#checkAttrSize(run.length);
        if (q === -1) break;
        this.#attrDone();
        this.#state = "in-tag";
        pos = q + 1;
        continue;
      }
      if (state === "cdata") {
        // "]]>" may be split between writes: the previous one's last two characters are carried.
        const carry = this.#cdataTail;
        this.#cdataTail = "";
        let after = -1;
        if (carry !== "") {
          const i = (carry + data.slice(pos, pos + 2)).indexOf("]]>");
          if (i !== -1) after = pos + i + 3 - carry.length;
        }
        if (after === -1) {
          const i = data.indexOf("]]>", pos);
          if (i !== -1) after = i + 3;
        }
        if (after === -1) {
          this.#cdataTail = (carry + data.slice(pos)).slice(-2);
          break;
        }
        pos = after;
        this.#state = "text";
        continue;
      }
      this.#char(data, pos);
      pos++;
    }
    if (this.#recording && !this.#skipping) this.#keep(data.slice(this.#recordFrom));
  }

  /** Text between stanzas or before the header: whitespace (keepalives) only matters as nothing. */
  #textOutside(data: string, from: number, to: number): void {
    if (this.#stack.length === 0 && data.slice(from, to).trim() !== "")
      throw new StreamInputError("not-well-formed", "text before the stream header");
    // Inside the root, XMPP allows only whitespace; anything else is dropped unkept.
  }

  #lt(pos: number): void {
    if (this.#stack.length === 1 && !this.#recording) {
      this.#recording = true;
      this.#recordFrom = pos;
      this.#parts = [];
      this.#bytes = 0;
      this.#skipping = undefined;
    }
    this.#state = "lt";
  }

  #char(data: string, pos: number): void {
    const c = data[pos]!;
    switch (this.#state) {
      case "lt":
        if (c === "/") {
          this.#name = "";
          this.#state = "end-name";
          if (this.#stack.length === 1) this.#recording = false; // the root's end, not a stanza
        } else if (c === "!") {
          this.#bang = "";
          this.#state = "bang";
        } else if (c === "?") {
          if (this.#stack.length > 0 || this.#root) throw restricted("a processing instruction");
          this.#prev1 = "";
          this.#state = "pi";
        } else if (isNameChar(c)) {
          this.#name = c;
          this.#attrs = {};
          this.#attrChars = 0;
          this.#state = "start-name";
        } else throw new StreamInputError("not-well-formed", "a '<' that opens no tag");
        return;
      case "start-name":
      case "end-name":
        if (isNameChar(c)) {
          this.#name += c;
          if (this.#name.length > MAX_NAME) throw new StreamInputError("policy-violation", "a name too long");
        } else if (this.#state === "end-name") {
          if (c === ">") this.#closeTag(data, pos);
          else if (isSpace(c)) this.#state = "end-after";
          else throw new StreamInputError("not-well-formed", "a bad end tag");
        } else if (isSpace(c)) this.#state = "in-tag";
        else if (c === ">") this.#openTag(false, data, pos);
        else if (c === "/") this.#state = "self-close";
        else throw new StreamInputError("not-well-formed", "a bad start tag");
        return;
      case "end-after":
        if (c === ">") this.#closeTag(data, pos);
        else if (!isSpace(c)) throw new StreamInputError("not-well-formed", "a bad end tag");
        return;
      case "in-tag":
        if (isSpace(c)) return;
        if (c === ">") this.#openTag(false, data, pos);
        else if (c === "/") this.#state = "self-close";
        else if (isNameChar(c)) {
          this.#attrName = c;
          this.#state = "attr-name";
        } else throw new StreamInputError("not-well-formed", "a bad attribute");
        return;
      case "attr-name":
        if (isNameChar(c)) {
          this.#attrName += c;
          if (this.#attrName.length > MAX_NAME)
            throw new StreamInputError("policy-violation", "a name too long");
        } else if (c === "=") this.#state = "attr-quote";
        else if (isSpace(c)) this.#state = "attr-eq";
        else throw new StreamInputError("not-well-formed", "a bad attribute");
        return;
      case "attr-eq":
        if (c === "=") this.#state = "attr-quote";
        else if (!isSpace(c)) throw new StreamInputError("not-well-formed", "an attribute without a value");
        return;
      case "attr-quote":
        if (c === '"' || c === "'") {
          this.#quote = c;
          this.#attrValue = "";
          this.#state = "attr-value";
        } else if (!isSpace(c)) throw new StreamInputError("not-well-formed", "an unquoted attribute value");
        return;
      case "self-close":
        if (c !== ">") throw new StreamInputError("not-well-formed", "a '/' inside a tag");
        this.#openTag(true, data, pos);
        return;
      case "bang":
        this.#bang += c;
        if ("[CDATA[".startsWith(this.#bang)) {
          if (this.#bang.length < 7) return;
          if (this.#stack.length < 2)
            throw new StreamInputError("not-well-formed", "character data outside a stanza");
          this.#cdataTail = "";
          this.#state = "cdata";
          return;
        }
        throw restricted(this.#bang.startsWith("-") ? "a comment" : "a document type declaration");
      case "pi":
        if (c === ">" && this.#prev1 === "?") this.#state = "text";
        this.#prev1 = c;
        return;
      default:
        return;
    }
  }

  /** Whether attributes of the tag being read are kept: the header's, and a stanza top element's. */
  #keepAttr(): boolean {
    const depth = this.#stack.length;
    return depth === 0 || (depth === 1 && ANSWER_ATTRS.has(this.#attrName));
  }

  #checkAttrSize(added: number): void {
    if (this.#stack.length !== 0) return;
    this.#attrChars += added;
    if (this.#attrChars > MAX_HEADER)
      throw new StreamInputError("policy-violation", "a stream header too large");
  }

  #attrDone(): void {
    if (!this.#keepAttr()) return;
    try {
      this.#attrs[this.#attrName] = xmlLibrary.unescapeXML(this.#attrValue);
    } catch {
      if (this.#stack.length === 0)
        throw new StreamInputError("not-well-formed", "a bad entity in the header");
      this.#malformedAttrs = true;
    }
  }

  #openTag(selfClosing: boolean, data: string, pos: number): void {
    const name = this.#name;
    const depth = this.#stack.length;
    this.#state = "text";
    if (depth === 0) {
      if (this.#root) throw new StreamInputError("not-well-formed", "a second root element");
      if (name !== "stream:stream") throw new StreamInputError("not-well-formed", "not an XMPP stream");
      this.#root = xmlElement(name, this.#attrs);
      this.#stack.push(name);
      this.emit("start", this.#root);
      if (selfClosing) this.#closeRoot();
      return;
    }
    if (depth === 1) {
      this.#stanzaName = name;
      this.#stanzaAttrs = this.#attrs;
      this.#attrs = {};
    }
    if (selfClosing) {
      if (depth === 1) this.#stanzaEnd(data, pos);
      return;
    }
    this.#stack.push(name);
    if (this.#stack.length - 1 > MAX_STANZA_DEPTH && !this.#skipping) this.#skip("too-deep");
    if (this.#stack.length > MAX_SKIP_DEPTH)
      throw new StreamInputError("policy-violation", "elements nested too deep");
  }

  #closeTag(data: string, pos: number): void {
    this.#state = "text";
    const open = this.#stack.at(-1);
    if (open !== this.#name)
      throw new StreamInputError("not-well-formed", "an end tag that matches no start tag");
    this.#stack.pop();
    if (this.#stack.length === 1) this.#stanzaEnd(data, pos);
    else if (this.#stack.length === 0) this.#closeRoot();
  }

  #closeRoot(): void {
    this.#stack.length = 0;
    this.#failed = true; // nothing follows the end of a stream
    this.emit("end", this.#root);
  }

  /** Adds text of the stanza being read; past the limit the stanza is skipped to its end. */
  #keep(text: string): void {
    this.#recordFrom = 0;
    if (text === "" || this.#skipping) return;
    this.#parts.push(text);
    this.#bytes += Buffer.byteLength(text);
    if (this.#bytes > this.#maxStanzaBytes) this.#skip("too-large");
  }

  #skip(reason: StanzaRefusal): void {
    this.#skipping = reason;
    this.#parts = [];
  }

  /** A stanza closed at `data[pos]` (its last '>'): parsed and passed on, or refused. */
  #stanzaEnd(data: string, pos: number): void {
    if (this.#recording && !this.#skipping) this.#keep(data.slice(this.#recordFrom, pos + 1));
    this.#recording = false;
    const attrs = this.#malformedAttrs ? {} : this.#stanzaAttrs;
    const name = this.#stanzaName;
    const reason = this.#skipping;
    const text = this.#parts.join("");
    this.#malformedAttrs = false;
    this.#stanzaAttrs = {};
    this.#skipping = undefined;
    this.#parts = [];
    this.#bytes = 0;
    const element = reason ? undefined : parseStanza(text, this.#root);
    if (element) this.emit("element", element);
    else this.emit("refused", { name, attrs, reason: reason ?? "malformed" } satisfies RefusedStanza);
  }
}

function isSpace(c: string): boolean {
  return c === " " || c === "\t" || c === "\n" || c === "\r";
}

function isNameChar(c: string): boolean {
  return !(
    isSpace(c) ||
    c === "<" ||
    c === ">" ||
    c === "/" ||
    c === "=" ||
    c === '"' ||
    c === "'" ||
    c === "&"
  );
}

function restricted(what: string): StreamInputError {
  return new StreamInputError("restricted-xml", `${what}, which XMPP streams may not carry`);
}

/** Parses one framed stanza on its own; undefined if it is not well-formed XML. */
function parseStanza(text: string, root: XmlElement | undefined): XmlElement | undefined {
  if (NOT_XML_CHAR.test(text)) return undefined;
  let element: XmlElement | undefined;
  let failed = false;
  const parser = new xmlLibrary.Parser();
  parser.on("element", (el: XmlElement) => (element = el));
  parser.on("error", () => (failed = true));
  try {
    // Wrapped in a root so that the library's stream parser hands the stanza over as an element.
    parser.write(`<s>${text}</s>`);
  } catch {
    // ltx throws on an entity it does not know (&lol9;): that stanza is malformed, nothing more.
    return undefined;
  }
  if (failed || !element) return undefined;
  element.parent = root;
  return element;
}

const NS_STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas";
/** Longest stanza id echoed in an answer. */
const MAX_ANSWER_ID = 128;

/**
 * The error answer to a refused message or request addressed to `domain`; none for presence, errors,
 * results or a stanza whose addresses could not be read (answering those could loop or go nowhere).
 */
export function refusalAnswer(
  r: RefusedStanza,
  domain: string,
  maxStanzaBytes: number,
): XmlElement | undefined {
  const { from, to, type } = r.attrs;
  const id = r.attrs.id && r.attrs.id.length <= MAX_ANSWER_ID ? r.attrs.id : undefined;
  if (!from || !to || type === "error") return undefined;
  const toDomain = to
    .slice(to.indexOf("@") + 1)
    .split("/")[0]!
    .toLowerCase();
  if (toDomain !== domain) return undefined;
  if (r.name === "iq" ? type !== "get" && type !== "set" : r.name !== "message") return undefined;
  // not-acceptable rather than RFC 6120's newer policy-violation: clients that know only RFC 3920's
  // conditions (slixmpp among them) would show an empty one.
  const [condition, text] =
    r.reason === "too-large"
      ? ["not-acceptable", `stanza too large: this gateway takes at most ${maxStanzaBytes} bytes`]
      : r.reason === "too-deep"
        ? ["not-acceptable", `elements nested more than ${MAX_STANZA_DEPTH} deep`]
        : ["bad-request", "not well-formed XML"];
  return xml(
    r.name,
    { type: "error", from: to, to: from, id },
    xml(
      "error",
      { type: "modify" },
      xml(condition, { xmlns: NS_STANZAS }),
      xml("text", { xmlns: NS_STANZAS, "xml:lang": "en" }, text),
    ),
  );
}
