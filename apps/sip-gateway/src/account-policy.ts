/** Whether `username` is among the accounts a gateway option allows: "all", "none" or a list. */
export function allowedBy(policy: "all" | "none" | readonly string[], username: string): boolean {
  if (policy === "all") return true;
  if (policy === "none") return false;
  return policy.some((u) => u.toLowerCase() === username.toLowerCase());
}
