import { createInterface } from "node:readline";

/** The password from SORI_PASSWORD, else a prompt on the terminal (not echoed), else a line of stdin. */
export async function readPassword(prompt: string): Promise<string> {
  const fromEnv = process.env.SORI_PASSWORD;
  if (fromEnv) return fromEnv;
  const input = process.stdin;
  if (!input.isTTY) {
    const rl = createInterface({ input });
    for await (const line of rl) {
      rl.close();
      return line;
    }
    return "";
  }
  return promptHidden(prompt);
}

/**
 * The passphrase of an encrypted profile: SORI_PASSPHRASE, else a prompt when stdin is a terminal,
 * else undefined (bots and scripts set the variable, or use profiles without one).
 */
export async function readPassphrase(prompt: string): Promise<string | undefined> {
  const fromEnv = process.env.SORI_PASSPHRASE;
  if (fromEnv !== undefined) return fromEnv;
  if (!process.stdin.isTTY) return undefined;
  return promptHidden(prompt);
}

/** Reads a line from the terminal without echoing it. */
function promptHidden(prompt: string): Promise<string> {
  const input = process.stdin;
  process.stderr.write(prompt);
  input.setRawMode(true);
  input.resume();
  input.setEncoding("utf8");
  return new Promise<string>((resolve, reject) => {
    let text = "";
    const onData = (chunk: string): void => {
      for (const ch of chunk) {
        if (ch === "\r" || ch === "\n") {
          finish();
          resolve(text);
          return;
        }
        if (ch === "\u0003") {
          finish();
          reject(new Error("cancelled"));
          return;
        }
        if (ch === "\u007f") text = text.slice(0, -1);
        else text += ch;
      }
    };
    const finish = (): void => {
      input.off("data", onData);
      input.setRawMode(false);
      input.pause();
      process.stderr.write("\n");
    };
    input.on("data", onData);
  });
}
