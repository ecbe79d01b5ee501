import type { en } from "./en.ts";

/** Every translatable string has a key; English defines the set and Korean must cover it exactly. */
export type MessageKey = keyof typeof en;

/** A complete dictionary for one language. */
export type Dictionary = Record<MessageKey, string>;

/** Keys that exist in ".one" and ".other" forms, chosen by Intl.PluralRules. */
export type PluralKey = {
  [K in MessageKey]: K extends `${infer B}.other` ? (`${B}.one` extends MessageKey ? B : never) : never;
}[MessageKey];
