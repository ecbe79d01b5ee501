import type { TransferProgress } from "@sori/sdk";
import type { CliIo } from "./cli-io.ts";
import { escapeForTerminal } from "./terminal-escape.ts";

const WIDTH = 30;

function mb(bytes: number): string {
  return `${(bytes / 1_000_000).toFixed(1)} MB`;
}

/**
 * A one-line progress bar on stderr when it is a terminal (redrawn in place); nothing otherwise, so
 * scripts reading stdout or stderr see no control characters.
 */
export function progressBar(io: CliIo, label: string): { update(p: TransferProgress): void; done(): void } {
  let last = -1;
  // The label is a file name, a sender's in `receive`.
  const name = escapeForTerminal(label);
  return {
    update: (p) => {
      if (!io.stderrIsTty || p.total === 0) return;
      const pct = Math.floor((p.done / p.total) * 100);
      if (pct === last) return;
      last = pct;
      const filled = Math.round((pct / 100) * WIDTH);
      io.stderr(
        `\r${name} [${"#".repeat(filled)}${".".repeat(WIDTH - filled)}] ${String(pct).padStart(3)}% ${mb(p.done)}/${mb(p.total)}`,
      );
    },
    done: () => {
      if (io.stderrIsTty && last >= 0) io.stderr("\n");
    },
  };
}
