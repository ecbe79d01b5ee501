import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { TypedEmitter } from "./typed-emitter.ts";

type Events = { a: (n: number) => void; b: (s: string, t: string) => void };

describe("TypedEmitter", () => {
  it("calls the listeners of one event in order, with its arguments", () => {
    const e = new TypedEmitter<Events>();
    const seen: string[] = [];
    e.on("a", (n) => seen.push(`1:${n}`));
    e.on("a", (n) => seen.push(`2:${n}`));
    e.on("b", (s, t) => seen.push(`b:${s}${t}`));
    e.emit("a", 7);
    e.emit("b", "x", "y");
    assert.deepEqual(seen, ["1:7", "2:7", "b:xy"]);
  });

  it("stops calling a listener once its remover ran", () => {
    const e = new TypedEmitter<Events>();
    let calls = 0;
    const off = e.on("a", () => calls++);
    e.emit("a", 1);
    off();
    e.emit("a", 2);
    assert.equal(calls, 1);
  });

  it("keeps calling the other listeners when one throws", () => {
    const e = new TypedEmitter<Events>();
    let reached = false;
    e.on("a", () => {
      throw new Error("listener bug");
    });
    e.on("a", () => (reached = true));
    e.emit("a", 1);
    assert.equal(reached, true);
  });
});
