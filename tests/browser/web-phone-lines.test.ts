// A person adds their own SIP phone in the web app's Settings → Phone lines, the settings shown once
// are what Debian's baresip registers with at the SIP gateway, a call to that person from another
// Sori user is taken by the phone (the caller sees whose phone line answered, the browser's ringing
// stops as answered elsewhere), and removing the line in Settings revokes it at the gateway at once.
// Then another person's desk phone calls the page and answers its call: the page names that person
// and the phone, not the gateway account.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Page } from "playwright-core";
import type { Call, SoriClient } from "@sori/sdk";
import { createLogger } from "@sori/server";
import { type SipGateway, startSipGateway } from "@sori/sip-gateway";
import { weriftPlatform } from "@sori/werift-calls";
import { newUser } from "../helpers.ts";
import { waitFor, waitState } from "../integration/call-helpers.ts";
import { SipPhone } from "../sip-phone.ts";
import { byTestId, chatItem, dismissEnded, openCallDevice, signUp, waitCallState } from "./call-helpers.ts";
import { assertNoErrors, screenshot, startWebServer, type TestDevice } from "./harness.ts";
import { portBase } from "../port-base.ts";

/** This file's phone ports: apart from the other SIP suites' ranges. */
const PHONE_BASE = portBase("browser-web-phone-lines");
const PHONE_TONE_HZ = 1000;

/**
 * Records which of `testIds` ever appeared on the page from now on: a state that may last only a
 * moment (the gateway answers quickly on loopback) is still seen.
 */
async function watchAppearances(page: Page, testIds: string[]): Promise<() => Promise<string[]>> {
  await page.evaluate((ids) => {
    const w = window as { __seen?: string[] };
    w.__seen = [];
    const check = (): void => {
      for (const id of ids)
        if (!w.__seen!.includes(id) && document.querySelector(`[data-testid="${id}"]`)) w.__seen!.push(id);
    };
    new MutationObserver(check).observe(document.body, { subtree: true, childList: true });
    check();
  }, testIds);
  return () => page.evaluate(() => (window as { __seen?: string[] }).__seen ?? []);
}

describe("web app: a person's own phone line, added and removed in Settings", () => {
  let url = "";
  let stop: (() => Promise<void>) | undefined;
  let dir = "";
  let gw: SoriClient | undefined;
  let bob: SoriClient | undefined;
  let gateway: SipGateway | undefined;
  let alice: TestDevice | undefined;
  let phone: SipPhone | undefined;
  let bobPhone: SipPhone | undefined;

  before(async () => {
    ({ url, stop } = await startWebServer(["--gateways", "wlines_gw"]));
    dir = mkdtempSync(join(tmpdir(), "sori-web-lines-"));
    gw = await newUser(url, "wlines_gw");
    gateway = await startSipGateway({
      client: gw,
      listen: { address: "127.0.0.1", port: 0 },
      mediaAddress: "127.0.0.1",
      rtpPorts: { min: 47_000, max: 47_998 },
      loopback: true,
      linesFile: join(dir, "sip-lines.json"),
      // Debian's baresip 1.0 (libre 1.1) fails on any challenge that offers SHA-256.
      digestAlgorithms: ["MD5"],
      log: createLogger(process.env.SORI_TEST_LOG ? "debug" : "error", (l) => process.stderr.write(l)),
    });
    bob = await newUser(url, "wlines_bob");
    bob.calls.configure({
      platform: weriftPlatform({ loopback: true }).platform,
      ringTimeoutMs: 15_000,
      useServerTurn: false,
    });
    alice = await openCallDevice(url);
    await signUp(alice.page, "wlines_alice");
    // Bob and Alice know each other: her profile, and the lines in it, reach him in their chat.
    const chat = await bob.startDirectChat("wlines_alice");
    await bob.sendText(chat.id, "hello Alice");
    await chatItem(alice.page, "wlines_bob").waitFor();
  });
  after(async () => {
    await phone?.stop().catch(() => undefined);
    await bobPhone?.stop().catch(() => undefined);
    await alice?.close().catch(() => undefined);
    await gateway?.stop().catch(() => undefined);
    await bob?.close().catch(() => undefined);
    await gw?.close().catch(() => undefined);
    await stop?.();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it(
    "adds a phone through Settings, which registers with the settings shown once, takes a call to its owner, and is revoked when removed",
    {
      timeout: 90_000,
    },
    async () => {
      const page = alice!.page;
      await byTestId(page, "settings-button").click();
      const section = byTestId(page, "phone-lines");
      await section.getByRole("heading", { name: "Phone lines" }).waitFor();
      await byTestId(page, "phone-lines-empty").waitFor();

      // Add a phone: the form waits for the gateway, then shows the settings once.
      await byTestId(page, "phone-line-add").click();
      await byTestId(page, "phone-line-gateway").fill("wlines_gw");
      await byTestId(page, "phone-line-name").fill("desk");
      const seenWhileAdding = await watchAppearances(page, ["phone-line-asking"]);
      await byTestId(page, "phone-line-submit").click();
      const dialog = byTestId(page, "phone-line-settings");
      await dialog.waitFor({ timeout: 25_000 });
      assert.deepEqual(await seenWhileAdding(), ["phone-line-asking"], 'the form said "Asking the gateway…"');
      const setting = (key: string): Promise<string> => byTestId(page, `line-setting-${key}`).innerText();
      const aor = await setting("aor");
      const registrar = await setting("registrar");
      const authUser = await setting("authUser");
      const password = await setting("password");
      assert.equal(aor, `sip:wlines_alice@127.0.0.1:${gateway!.port}`);
      assert.equal(registrar, `sip:127.0.0.1:${gateway!.port}`);
      assert.match(authUser, /^wlines_alice\./);
      assert.ok(password.length >= 20, "a long random password");
      assert.match(await byTestId(page, "line-password-once").innerText(), /shown only now/);
      assert.match(
        await byTestId(page, "line-e2ee-note").innerText(),
        /end-to-end encrypted only as far as the gateway wlines_gw/,
      );
      for (const key of ["aor", "registrar", "authUser", "password"])
        await byTestId(page, `line-copy-${key}`).waitFor();
      await screenshot(page, "settings-phone-line-added");
      assert.equal(gateway!.stats().lines, 1);
      await byTestId(page, "line-settings-done").click();
      await dialog.waitFor({ state: "hidden" });
      const row = page.locator('[data-testid="phone-line"][data-line-name="desk"]');
      assert.match(await row.innerText(), /desk[\s\S]*via wlines_gw/);
      assert.equal(
        await byTestId(page, "line-setting-password").count(),
        0,
        "the password is gone once closed",
      );

      // The phone registers with exactly what the page showed.
      phone = await SipPhone.start({
        sipPort: PHONE_BASE,
        controlPort: PHONE_BASE + 2,
        toneHz: PHONE_TONE_HZ,
        autoAnswer: true,
        line: { aor, authUser, password },
      });
      await waitFor("the phone registers", () => gateway!.stats().registrations === 1, 10_000);

      // Bob calls Alice: her browser rings and her phone answers; Bob sees whose phone line took it.
      const call: Call = await bob!.calls.start("wlines_alice");
      const ownerSeenAt: string[] = [];
      const offState = call.on("state", (s) => {
        if (call.lineOwner && ownerSeenAt.length === 0) ownerSeenAt.push(s);
      });
      await waitState(call, "connected", 20_000);
      offState();
      assert.equal(call.lineOwner?.username, "wlines_alice");
      assert.ok(call.lineOwner.userId && call.lineOwner.userId !== gw!.userId);
      assert.equal(call.via?.name, "desk");
      assert.ok(
        ["connecting", "connected"].includes(ownerSeenAt[0] ?? ""),
        `the line's owner is known once answered (seen at ${ownerSeenAt[0] ?? "never"})`,
      );
      await phone.waitEvent("CALL_ESTABLISHED", 10_000);
      await page
        .locator('[data-testid="call-screen"][data-state="ended"][data-end-reason="answered-elsewhere"]')
        .waitFor();
      assert.equal(await byTestId(page, "incoming-call").count(), 0, "the ringing prompt went away");
      assert.match(await byTestId(page, "call-status").innerText(), /Answered on another device/);
      call.hangup();
      await phone.waitEvent("CALL_CLOSED", 10_000);
      await dismissEnded(page);

      // Removing the line asks first, then the gateway drops it (and the phone's registration) at once.
      await row.getByTestId("phone-line-remove").click();
      assert.match(await byTestId(page, "phone-line-remove-prompt").innerText(), /signed out at once/);
      await byTestId(page, "phone-line-remove-confirm").click();
      await byTestId(page, "phone-lines-empty").waitFor();
      await waitFor("the gateway drops the line", () => gateway!.stats().lines === 0, 10_000);
      assert.equal(gateway!.stats().registrations, 0);
      assert.equal(await byTestId(page, "phone-line").count(), 0);
      assertNoErrors(alice!);
    },
  );
  it(
    "a call from someone's own desk phone, and a call answered on it, name that person and the phone (not the gateway) for the whole call",
    { timeout: 90_000 },
    async () => {
      const page = alice!.page;
      await phone?.stop();
      phone = undefined;
      const line = await bob!.phoneLines.add({ gateway: "wlines_gw", name: "desk" });
      // Profiles travel in order in their chat: once Alice's page shows the new name, her device also
      // has the profile that lists the line (which the SDK checks a line's calls against).
      await bob!.setProfile({ displayName: "Bob Kim" });
      await chatItem(page, "wlines_bob").getByText("Bob Kim").waitFor();
      bobPhone = await SipPhone.start({
        sipPort: PHONE_BASE + 4,
        controlPort: PHONE_BASE + 6,
        toneHz: PHONE_TONE_HZ,
        autoAnswer: true,
        line,
      });
      await waitFor("Bob's phone registers", () => gateway!.stats().registrations === 1, 10_000);

      // Bob's desk phone calls Alice: her page names Bob and his phone, not the gateway account.
      bobPhone.dial(`sip:wlines_alice@127.0.0.1:${gateway!.port}`);
      await byTestId(page, "incoming-call").waitFor({ timeout: 20_000 });
      assert.equal(await byTestId(page, "incoming-call-name").innerText(), "Bob Kim");
      const note = byTestId(page, "call-via-gateway");
      assert.equal(await note.getAttribute("data-line-owner"), "wlines_bob");
      assert.equal(
        (await note.innerText()).trim(),
        "Bob Kim — desk phone · not end-to-end encrypted past the gateway",
      );
      await screenshot(page, "call-from-desk-phone");
      await byTestId(page, "call-answer").click();
      await waitCallState(page, "connected", 20_000);
      assert.equal(await byTestId(page, "call-peer-name").innerText(), "Bob Kim");
      assert.match(await note.innerText(), /Bob Kim — desk phone/);
      await byTestId(page, "call-hangup").click();
      await bobPhone.waitEvent("CALL_CLOSED", 10_000);
      await waitCallState(page, "ended");
      assert.match(await note.innerText(), /Bob Kim — desk phone/, "the note stays after the call");
      await dismissEnded(page);

      // Alice calls Bob from their chat: his phone answers, and the page says so.
      bobPhone.clearEvents();
      await chatItem(page, "wlines_bob").click();
      await byTestId(page, "call-voice-button").click();
      await waitCallState(page, "connected", 20_000);
      assert.equal(await byTestId(page, "call-peer-name").innerText(), "Bob Kim");
      assert.equal(
        (await note.innerText()).trim(),
        "Answered on Bob Kim's desk phone — not end-to-end encrypted past the gateway",
      );
      await screenshot(page, "call-answered-on-desk-phone");
      await byTestId(page, "call-hangup").click();
      await bobPhone.waitEvent("CALL_CLOSED", 10_000);
      await waitCallState(page, "ended");
      assert.match(await note.innerText(), /Answered on Bob Kim's desk phone/);
      await dismissEnded(page);
      await bob!.phoneLines.remove("desk");

      // Korean is first-class: the section in Korean, with the add form open.
      await byTestId(page, "settings-button").click();
      await byTestId(page, "language-select").selectOption("ko");
      await byTestId(page, "phone-lines").getByRole("heading", { name: "전화 회선" }).waitFor();
      assert.equal(await byTestId(page, "phone-lines-empty").innerText(), "아직 전화 회선이 없어요.");
      await byTestId(page, "phone-line-add").click();
      await byTestId(page, "phone-line-form").scrollIntoViewIfNeeded();
      await screenshot(page, "settings-phone-lines-ko");
      await byTestId(page, "language-select").selectOption("en");
      assertNoErrors(alice!);
    },
  );
});
