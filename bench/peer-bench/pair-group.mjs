// The 1:1 group of two peer-bench users, named so that both sides (and the seeding step) derive the same
// id without asking the server. Shared by seed.ts and sori-adapter.mjs.

/** Users are `<prefix><index>`; the index is what identifies them. */
export function userIndex(user) {
  const m = /(\d+)$/.exec(user);
  if (!m) throw new Error(`peer-bench user names end in their index, got "${user}"`);
  return Number(m[1]);
}

/** A valid Sori group id (base64url, 16–43 characters) for the unordered pair {a, b}. */
export function pairGroupId(a, b) {
  const [lo, hi] = a < b ? [a, b] : [b, a];
  return `pair_${String(lo).padStart(6, "0")}_${String(hi).padStart(6, "0")}`;
}
