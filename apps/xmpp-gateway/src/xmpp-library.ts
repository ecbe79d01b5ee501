import { createRequire } from "node:module";

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
  reconnect: { delay: number; stop(): void };
  iqCaller: {
    request(element: XmlElement, timeoutMs?: number): Promise<XmlElement>;
  };
  /** Answers IQs of a namespace; an IQ nobody answers gets service-unavailable. */
  iqCallee: {
    get(
      xmlns: string,
      name: string,
      handler: (ctx: { stanza: XmlElement }) => Promise<XmlElement | undefined>,
    ): void;
  };
  status: string;
};

type ComponentModule = {
  component(options: { service: string; domain: string; password: string }): XmppComponent;
  xml(name: string, attrs?: Record<string, string | undefined>, ...children: XmlChild[]): XmlElement;
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

/** An XEP-0114 component connection (not started). */
export function xmppComponent(options: { service: string; domain: string; password: string }): XmppComponent {
  return library.component(options);
}
