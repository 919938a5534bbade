/** How the runner child batches a generation's text for the gateway. */
import { setImmediate as nextTurn } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { TEXT_INTERVAL_MS, TextBatcher } from "../../host/runner/child-text-batcher.js";

describe("TextBatcher", () => {
  it("sends the first text on the next event-loop turn, not inside the token callback", async () => {
    const sent: [string, number][] = [];
    const batcher = new TextBatcher((text, tokens) => sent.push([text, tokens]));
    batcher.addTokens(1);
    batcher.addText("Hel");
    expect(sent).toEqual([]);
    await nextTurn();
    expect(sent).toEqual([["Hel", 1]]);
  });

  it("gathers text arriving within the interval after the last send into one message, sent when it ends", async () => {
    const sent: string[] = [];
    const batcher = new TextBatcher((text) => sent.push(text));
    batcher.addText("a");
    await nextTurn();
    batcher.addText("b");
    batcher.addText("c");
    await nextTurn();
    expect(sent).toEqual(["a"]);
    await new Promise((resolve) => setTimeout(resolve, TEXT_INTERVAL_MS + 5));
    expect(sent).toEqual(["a", "bc"]);
  });

  it("sends text arriving after the interval on the next turn, on its own: a slow model is not batched", async () => {
    const sent: string[] = [];
    const batcher = new TextBatcher((text) => sent.push(text));
    batcher.addText("a");
    await nextTurn();
    await new Promise((resolve) => setTimeout(resolve, TEXT_INTERVAL_MS + 5));
    batcher.addText("b");
    await nextTurn();
    expect(sent).toEqual(["a", "b"]);
  });

  it("flush sends what is pending at once, cancels the scheduled send, and leaves immediates working", async () => {
    const sent: string[] = [];
    const batcher = new TextBatcher((text) => sent.push(text));
    batcher.addText("a");
    await nextTurn();
    batcher.addText("b");
    batcher.flush();
    expect(sent).toEqual(["a", "b"]);
    // A cancelled timer must not disturb Node's immediate queue (node-llama-cpp dispatches on it).
    await nextTurn();
    await new Promise((resolve) => setTimeout(resolve, TEXT_INTERVAL_MS + 5));
    expect(sent).toEqual(["a", "b"]);
  });

  it("sends nothing for an empty flush", () => {
    const sent: string[] = [];
    new TextBatcher((text) => sent.push(text)).flush();
    expect(sent).toEqual([]);
  });
});
