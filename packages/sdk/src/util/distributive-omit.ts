/**
 * `Omit` that keeps a union a union: TypeScript's own `Omit<A | B, K>` collapses to the keys both
 * share, which loses what a discriminated `ChatMessage` says about its kind.
 */
export type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
