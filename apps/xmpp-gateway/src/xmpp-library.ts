import type { EventEmitter } from "node:events";
import { createRequire } from "node:module";
import { Socket } from "node:net";

/**
 * The few parts of xmpp.js (`@xmpp/component`, XEP-0114 streams, and its ltx elements) the gateway
 * uses, typed here: the library ships no types. Loaded through require because it is CommonJS.
 */
export type XmlElement = {
  name: string;
  attrs: Record<string, string | undefined>;
  children: (XmlElement | string)[];
  getChild(name: string, xmlns?: string): XmlElement | undefined;
  getChildren(name: string, xmlns?: string): XmlElement[];
  getChildText(name: string, xmlns?: string): string | null;
  getText(): string;
  is(name: string, xmlns?: string): boolean;
  toString(): string;
  /** The enclosing element (a stanza's is the stream's root, for namespace look-ups). */
  parent?: XmlElement | undefined;
};

export type XmlChild = XmlElement | string | undefined | null | false;

export type XmppComponent = {
  start(): Promise<unknown>;
  stop(): Promise<unknown>;
  send(element: XmlElement): Promise<void>;
  on(event: "stanza", listener: (stanza: XmlElement) => void): void;
  on(event: "online", listener: () => void): void;
  on(event: "offline" | "disconnect", listener: () => void): void;
  on(event: "error", listener: (error: Error) => void): void;
  on(event: "status", listener: (status: string) => void): void;
  /** xmpp.js's reconnect module: its fixed-delay listener is stopped, its reconnect() is used. */
  reconnect: { stop(): void; reconnect(): Promise<void> };
  iqCaller: {
    request(element: XmlElement, timeoutMs?: number): Promise<XmlElement>;
  };
  /**
   * Answers IQs of a namespace: with the element returned, an empty result for `true`; an IQ nobody
   * answers (undefined) gets service-unavailable.
   */
  iqCallee: {
    get(
      xmlns: string,
      name: string,
      handler: (ctx: { stanza: XmlElement }) => Promise<XmlElement | true | undefined>,
    ): void;
  };
  status: string;
  /** The TCP socket while connected (its buffered length tells whether a write reached the kernel). */
  socket: { writableLength: number; destroy(): void } | null;
};

/** What the connection needs of an input parser: xmpp.js's Parser's events and methods. */
export type StreamParser = EventEmitter & { write(data: string): void; end(data?: string): void };

/** The parts of the connection swapped for hardened ones (xmpp.js instantiates them per connection). */
type ComponentInternals = XmppComponent & {
  Socket: typeof Socket;
  Parser: new () => StreamParser;
  parser: StreamParser | null;
  _onData(this: ComponentInternals, data: string): void;
};

type ComponentModule = {
  component(options: { service: string; domain: string; password: string }): XmppComponent;
  xml: {
    (name: string, attrs?: Record<string, string | undefined>, ...children: XmlChild[]): XmlElement;
    Element: new (name: string, attrs: Record<string, string>) => XmlElement;
    Parser: new () => StreamParser;
    unescapeXML(text: string): string;
  };
};

const library = createRequire(import.meta.url)("@xmpp/component") as ComponentModule;

/** An XML element, for stanzas the gateway sends (text children are escaped by ltx). */
export function xml(
  name: string,
  attrs: Record<string, string | undefined> = {},
  ...children: XmlChild[]
): XmlElement {
  const defined = Object.fromEntries(Object.entries(attrs).filter(([, v]) => v !== undefined));
  return library.xml(name, defined, ...children.filter((c) => c !== undefined && c !== null && c !== false));
}

/** ltx's pieces for parsing: its stream parser, entity unescaping and element class. */
export const xmlLibrary = {
  Parser: library.xml.Parser,
  unescapeXML: (text: string): string => library.xml.unescapeXML(text),
};

/** An element with these attributes and no children (a stream header). */
export function xmlElement(name: string, attrs: Record<string, string>): XmlElement {
  return new library.xml.Element(name, attrs);
}

/** A socket that decodes UTF-8 itself, so that a character split between two reads stays whole. */
class Utf8Socket extends Socket {
  constructor() {
    super();
    // xmpp.js decodes each chunk on its own (data.toString), which breaks a character cut in two.
    this.setEncoding("utf8");
  }
}

/**
 * An XEP-0114 component connection (not started), reading its input with `parser()` in place of
 * xmpp.js's own parser, through a socket that keeps UTF-8 characters whole.
 */
export function xmppComponent(options: {
  service: string;
  domain: string;
  password: string;
  parser: () => StreamParser;
}): XmppComponent {
  const { parser, ...connection } = options;
  const component = library.component(connection) as ComponentInternals;
  // Per instance (the library reads these as this.Socket and new this.Parser() on every connect).
  component.Socket = Utf8Socket;
  // A constructor function that returns the parser (`new` then yields that object): the library
  // instantiates its Parser with no arguments, and this one needs its options.
  component.Parser = function BoundedParser(): StreamParser {
    return parser();
  } as unknown as new () => StreamParser;
  const onData = component._onData;
  component._onData = function (data: string): void {
    // After a parse error the library detaches its parser but reads on until the socket closes.
    if (this.parser) onData.call(this, data);
  };
  return component;
}
