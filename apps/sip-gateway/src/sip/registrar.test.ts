import assert from "node:assert/strict";
import { test } from "node:test";
import type { SipSource } from "./sip-format.ts";
import { Registrar, type RegisterRefused, type RegisterResult } from "./registrar.ts";
import { parseSip, type SipRequest } from "./sip-message.ts";

const NOW = 1_750_000_000_000;
const PHONE: SipSource = { address: "192.0.2.10", port: 5062, transport: "UDP" };

/** A REGISTER as a phone writes it, through the real parser. */
function registerRequest(
  o: { contacts?: string[]; expires?: string; callId?: string; cseq?: number } = {},
): SipRequest {
  const lines = [
    "REGISTER sip:sori.example SIP/2.0",
    "Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK776asdhds;rport",
    "Max-Forwards: 70",
    "To: <sip:alice@sori.example>",
    "From: <sip:alice@sori.example>;tag=456248",
    `Call-ID: ${o.callId ?? "843817637684230@998sdasdh09"}`,
    `CSeq: ${o.cseq ?? 1826} REGISTER`,
    ...(o.contacts ?? ["<sip:alice@192.0.2.10:5062;transport=udp>"]).map((c) => `Contact: ${c}`),
    ...(o.expires !== undefined ? [`Expires: ${o.expires}`] : []),
    "Content-Length: 0",
    "",
    "",
  ];
  const m = parseSip(lines.join("\r\n"));
  if (m.type !== "request") throw new Error(m.type === "invalid" ? m.reason : "not a request");
  return m;
}

function ok(r: RegisterResult): Extract<RegisterResult, { status: 200 }> {
  assert.equal(r.status, 200, r.status !== 200 ? r.reason : "");
  if (r.status !== 200) throw new Error("unreachable");
  return r;
}

function refused(r: RegisterResult, status: RegisterRefused["status"]): RegisterRefused {
  if (r.status === 200) assert.fail(`expected ${status}, got 200`);
  assert.equal(r.status, status, r.reason);
  return r;
}

const contactsText = (r: RegisterResult): string[] => ok(r).contacts.map(([, v]) => v);

test("a REGISTER binds its Contact; the 200 lists it with expires and carries a Date", () => {
  const registrar = new Registrar();
  const r = ok(
    registrar.register({ aor: "alice", lineId: "L1", request: registerRequest(), source: PHONE, now: NOW }),
  );
  assert.deepEqual(r.contacts, [["Contact", "<sip:alice@192.0.2.10:5062;transport=udp>;expires=3600"]]);
  assert.deepEqual(r.headers.at(-1), ["Date", new Date(NOW).toUTCString()]);
  assert.deepEqual(registrar.contactsOf("alice", NOW), [
    {
      contact: "sip:alice@192.0.2.10:5062;transport=udp",
      expiresAt: NOW + 3_600_000,
      callId: "843817637684230@998sdasdh09",
      cseq: 1826,
      lineId: "L1",
      source: PHONE,
    },
  ]);
  assert.deepEqual(registrar.contactsOf("bob", NOW), []);
});

test("expires comes from the Contact parameter, else the Expires header, else 3600, and is capped at 3600", () => {
  const cases: [{ contacts?: string[]; expires?: string }, number][] = [
    [{ contacts: ["<sip:a@192.0.2.10>;expires=120"], expires: "600" }, 120],
    [{ contacts: ["<sip:a@192.0.2.10>"], expires: "600" }, 600],
    [{ contacts: ["<sip:a@192.0.2.10>"] }, 3600],
    [{ contacts: ["<sip:a@192.0.2.10>;expires=7200"] }, 3600],
    [{ contacts: ["<sip:a@192.0.2.10>"], expires: "86400" }, 3600],
    [{ contacts: ["<sip:a@192.0.2.10>"], expires: "60" }, 60],
  ];
  for (const [request, expires] of cases) {
    const registrar = new Registrar();
    const r = registrar.register({
      aor: "alice",
      lineId: "L1",
      request: registerRequest(request),
      source: PHONE,
      now: NOW,
    });
    assert.deepEqual(contactsText(r), [`<sip:a@192.0.2.10>;expires=${expires}`], JSON.stringify(request));
  }
});

test("a non-zero expires below 60 is a 423 with Min-Expires, and nothing is bound", () => {
  const registrar = new Registrar();
  for (const request of [
    registerRequest({ contacts: ["<sip:a@192.0.2.10>;expires=30"] }),
    registerRequest({ contacts: ["<sip:a@192.0.2.10>"], expires: "59" }),
    // One short contact spoils the whole request.
    registerRequest({ contacts: ["<sip:b@192.0.2.10>", "<sip:a@192.0.2.10>;expires=1"] }),
  ]) {
    const r = refused(
      registrar.register({ aor: "alice", lineId: "L1", request, source: PHONE, now: NOW }),
      423,
    );
    assert.deepEqual(r.headers, [["Min-Expires", "60"]]);
    assert.match(r.reason, /below 60/);
  }
  assert.equal(registrar.size, 0);
});

test("Expires 0 removes that binding only; a REGISTER without Contact is a query", () => {
  const registrar = new Registrar();
  const two = registerRequest({ contacts: ["<sip:a@192.0.2.10>", "<sip:a@198.51.100.7:5080>"], cseq: 1 });
  ok(registrar.register({ aor: "alice", lineId: "L1", request: two, source: PHONE, now: NOW }));
  const query = registrar.register({
    aor: "alice",
    lineId: "L1",
    request: registerRequest({ contacts: [], cseq: 2 }),
    source: PHONE,
    now: NOW + 10_000,
  });
  assert.deepEqual(contactsText(query), [
    "<sip:a@192.0.2.10>;expires=3590",
    "<sip:a@198.51.100.7:5080>;expires=3590",
  ]);
  const remove = registerRequest({ contacts: ["<sip:a@198.51.100.7:5080>;expires=0"], cseq: 3 });
  const r = registrar.register({
    aor: "alice",
    lineId: "L1",
    request: remove,
    source: PHONE,
    now: NOW + 20_000,
  });
  assert.deepEqual(contactsText(r), ["<sip:a@192.0.2.10>;expires=3580"]);
  const header = registerRequest({ contacts: ["<sip:a@192.0.2.10>"], expires: "0", cseq: 4 });
  const gone = registrar.register({
    aor: "alice",
    lineId: "L1",
    request: header,
    source: PHONE,
    now: NOW + 30_000,
  });
  assert.deepEqual(ok(gone).contacts, []);
  assert.equal(registrar.size, 0);
  // Removing what is not there is no error.
  const none = registerRequest({ contacts: ["<sip:z@192.0.2.10>;expires=0"], cseq: 5 });
  assert.equal(
    registrar.register({ aor: "alice", lineId: "L1", request: none, source: PHONE, now: NOW }).status,
    200,
  );
});

test('"*" with Expires 0 removes all of this line\'s bindings of the AOR; "*" otherwise is a 400', () => {
  const registrar = new Registrar();
  const at = (lineId: string, contacts: string[], extra: { expires?: string; cseq?: number } = {}) =>
    registrar.register({
      aor: "alice",
      lineId,
      request: registerRequest({ contacts, callId: `call-${lineId}`, ...extra }),
      source: PHONE,
      now: NOW,
    });
  ok(at("L1", ["<sip:a@192.0.2.10>", "<sip:a@192.0.2.11>"]));
  ok(at("L2", ["<sip:a@203.0.113.5>"]));
  for (const [contacts, expires] of [
    [["*"], undefined],
    [["*"], "3600"],
    [["*", "<sip:a@192.0.2.10>"], "0"],
  ] as const) {
    const r = at("L1", [...contacts], { ...(expires !== undefined ? { expires } : {}), cseq: 2000 });
    assert.equal(r.status, 400, JSON.stringify(contacts));
  }
  assert.equal(registrar.contactsOf("alice", NOW).length, 3);
  const r = at("L1", ["*"], { expires: "0", cseq: 2001 });
  assert.deepEqual(contactsText(r), ["<sip:a@203.0.113.5>;expires=3600"]);
  assert.deepEqual(
    registrar.contactsOf("alice", NOW).map((b) => b.lineId),
    ["L2"],
  );
});

test("a refresh extends the binding; the same Call-ID with a CSeq not higher is refused whole with 500", () => {
  const registrar = new Registrar();
  const send = (cseq: number, contacts: string[], now: number, callId?: string): RegisterResult =>
    registrar.register({
      aor: "alice",
      lineId: "L1",
      request: registerRequest({ contacts, cseq, ...(callId ? { callId } : {}) }),
      source: PHONE,
      now,
    });
  ok(send(10, ["<sip:a@192.0.2.10>"], NOW));
  const refreshed = send(11, ["<sip:a@192.0.2.10>;expires=600"], NOW + 100_000);
  assert.deepEqual(contactsText(refreshed), ["<sip:a@192.0.2.10>;expires=600"]);
  assert.equal(registrar.contactsOf("alice", NOW)[0]?.cseq, 11);
  for (const cseq of [11, 5]) {
    // Carries a new contact too: nothing of the request is applied.
    const r = refused(send(cseq, ["<sip:a@192.0.2.99>", "<sip:a@192.0.2.10>;expires=0"], NOW + 200_000), 500);
    assert.deepEqual(r.headers, [["Retry-After", "5"]]);
    assert.match(r.reason, /out of order/);
  }
  assert.deepEqual(
    registrar.contactsOf("alice", NOW + 200_000).map((b) => [b.contact, b.expiresAt]),
    [["sip:a@192.0.2.10", NOW + 700_000]],
  );
  // The wildcard obeys the same rule.
  const star = registrar.register({
    aor: "alice",
    lineId: "L1",
    request: registerRequest({ contacts: ["*"], expires: "0", cseq: 11 }),
    source: PHONE,
    now: NOW,
  });
  assert.equal(star.status, 500);
  // Another Call-ID (a phone that restarted) updates whatever its CSeq.
  const other = send(1, ["<sip:a@192.0.2.10>"], NOW + 300_000, "rebooted@phone");
  assert.deepEqual(contactsText(other), ["<sip:a@192.0.2.10>;expires=3600"]);
  assert.equal(registrar.contactsOf("alice", NOW + 300_000)[0]?.callId, "rebooted@phone");
});

test("bindings lapse: dropped lazily by contactsOf and by sweep", () => {
  const registrar = new Registrar();
  const request = registerRequest({
    contacts: ["<sip:a@192.0.2.10>;expires=60", "<sip:a@192.0.2.11>;expires=120"],
  });
  ok(registrar.register({ aor: "alice", lineId: "L1", request, source: PHONE, now: NOW }));
  const bob = registerRequest({ contacts: ["<sip:b@192.0.2.20>;expires=60"], callId: "b" });
  ok(registrar.register({ aor: "bob", lineId: "L9", request: bob, source: PHONE, now: NOW }));
  assert.equal(registrar.contactsOf("alice", NOW + 59_999).length, 2);
  assert.deepEqual(
    registrar.contactsOf("alice", NOW + 60_000).map((b) => b.contact),
    ["sip:a@192.0.2.11"],
  );
  assert.equal(registrar.size, 2);
  assert.equal(registrar.sweep(NOW + 60_000), 1);
  assert.equal(registrar.sweep(NOW + 120_000), 1);
  assert.equal(registrar.size, 0);
  // Half a second left is shown as 1, not 0 (which would read as "removed").
  ok(registrar.register({ aor: "alice", lineId: "L1", request, source: PHONE, now: NOW }));
  const query = registerRequest({ contacts: [], cseq: 9999 });
  const r = registrar.register({
    aor: "alice",
    lineId: "L1",
    request: query,
    source: PHONE,
    now: NOW + 59_500,
  });
  assert.deepEqual(contactsText(r), ["<sip:a@192.0.2.10>;expires=1", "<sip:a@192.0.2.11>;expires=61"]);
});

test("a line at its limit has its least recently registered binding replaced; too many at once is a 403", () => {
  const registrar = new Registrar({ maxBindingsPerLine: 3 });
  const send = (lineId: string, contacts: string[], cseq: number, now = NOW): RegisterResult =>
    registrar.register({
      aor: "alice",
      lineId,
      request: registerRequest({ contacts, cseq, callId: `boot-${cseq}` }),
      source: PHONE,
      now,
    });
  ok(send("L1", ["<sip:a@192.0.2.1>"], 1));
  ok(send("L1", ["<sip:a@192.0.2.2>"], 2));
  ok(send("L1", ["<sip:a@192.0.2.3>"], 3));
  ok(send("L2", ["<sip:a@203.0.113.1>"], 1));
  // Refreshing the first makes the second the oldest.
  ok(send("L1", ["<sip:a@192.0.2.1>"], 4));
  ok(send("L1", ["<sip:a@192.0.2.4>"], 5));
  assert.deepEqual(
    registrar
      .contactsOf("alice", NOW)
      .filter((b) => b.lineId === "L1")
      .map((b) => b.contact)
      .sort(),
    ["sip:a@192.0.2.1", "sip:a@192.0.2.3", "sip:a@192.0.2.4"],
  );
  // Another line's binding is untouched.
  assert.equal(registrar.contactsOf("alice", NOW).filter((b) => b.lineId === "L2").length, 1);
  const many = send(
    "L1",
    ["<sip:a@10.0.0.1>", "<sip:a@10.0.0.2>", "<sip:a@10.0.0.3>", "<sip:a@10.0.0.4>"],
    6,
  );
  assert.equal(many.status, 403);
  assert.equal(registrar.contactsOf("alice", NOW).length, 4);
});

test("Contacts naming one URI with parameters in another order are the same binding; twice in one request is a 400", () => {
  const registrar = new Registrar();
  const send = (contacts: string[], cseq: number): RegisterResult =>
    registrar.register({
      aor: "alice",
      lineId: "L1",
      request: registerRequest({ contacts, cseq }),
      source: PHONE,
      now: NOW,
    });
  ok(send(["<sip:a@Phone.Example;transport=tcp;ob>"], 1));
  ok(send(["<sip:a@phone.example;ob;transport=tcp>;expires=300"], 2));
  assert.equal(registrar.size, 1);
  assert.equal(send(["<sip:a@192.0.2.1>", "<sip:a@192.0.2.1>;expires=60"], 3).status, 400);
  assert.equal(send(["<sip:a@192.0.2.1>;expires=soon"], 4).status, 400);
  assert.equal(send(["<sip:a@192.0.2.1>;expires"], 5).status, 400);
});

test("removeLine drops every binding of a revoked line, in every AOR", () => {
  const registrar = new Registrar();
  const bind = (aor: string, lineId: string, contact: string): void => {
    ok(
      registrar.register({
        aor,
        lineId,
        request: registerRequest({ contacts: [contact], callId: `${aor}-${lineId}` }),
        source: PHONE,
        now: NOW,
      }),
    );
  };
  bind("alice", "L1", "<sip:a@192.0.2.1>");
  bind("alice", "L2", "<sip:a@192.0.2.2>");
  bind("shared", "L1", "<sip:s@192.0.2.1>");
  assert.equal(registrar.removeLine("L1"), 2);
  assert.deepEqual(
    registrar.contactsOf("alice", NOW).map((b) => b.lineId),
    ["L2"],
  );
  assert.deepEqual(registrar.contactsOf("shared", NOW), []);
  assert.equal(registrar.removeLine("L1"), 0);
});

test("bindings survive a restart through JSON; corrupt, expired and repeated entries are skipped", () => {
  const registrar = new Registrar();
  const tcp: SipSource = { address: "2001:db8::5", port: 40123, transport: "TCP" };
  ok(registrar.register({ aor: "alice", lineId: "L1", request: registerRequest(), source: PHONE, now: NOW }));
  ok(
    registrar.register({
      aor: "bob",
      lineId: "L2",
      request: registerRequest({ contacts: ["<sip:bob@[2001:db8::5]:40123;transport=tcp>;expires=600"] }),
      source: tcp,
      now: NOW,
    }),
  );
  const saved = JSON.parse(JSON.stringify(registrar)) as { version: 1; bindings: unknown[] };
  const restored = Registrar.fromJSON(saved, NOW + 1000);
  assert.deepEqual(restored.toJSON(), registrar.toJSON());
  assert.deepEqual(restored.contactsOf("bob", NOW + 1000)[0]?.source, tcp);

  const good = saved.bindings[0] as Record<string, unknown>;
  const corrupt = {
    version: 1,
    bindings: [
      ...saved.bindings,
      "garbage",
      null,
      { ...good, contact: "mailto:alice@example.com" },
      { ...good, contact: "sip:x@192.0.2.1>\r\nVia: injected" },
      { ...good, cseq: -1 },
      { ...good, cseq: 1.5 },
      { ...good, expiresAt: "tomorrow" },
      { ...good, expiresAt: NOW - 1 },
      { ...good, expiresAt: NOW + 86_400_000 },
      { ...good, aor: "" },
      { ...good, callId: "a\r\nb" },
      { ...good, source: { ...PHONE, port: 70_000 } },
      { ...good, source: { ...PHONE, transport: "SCTP" } },
      { ...good, source: null },
      { ...good }, // a repeat of the first
      { ...good, lineId: "L3", contact: "sip:alice@192.0.2.50" }, // fine
    ],
  };
  const skipped: [number, string][] = [];
  const loaded = Registrar.fromJSON(corrupt, NOW, { onSkip: (i, reason) => skipped.push([i, reason]) });
  assert.equal(skipped.length, 15);
  assert.deepEqual(
    skipped.map(([i]) => i),
    Array.from({ length: 15 }, (_, i) => i + 2),
  );
  assert.deepEqual(
    loaded.contactsOf("alice", NOW).map((b) => [b.lineId, b.contact]),
    [
      ["L1", "sip:alice@192.0.2.10:5062;transport=udp"],
      ["L3", "sip:alice@192.0.2.50"],
    ],
  );
  for (const bad of [undefined, null, 42, "x", [], { version: 2, bindings: [] }, { version: 1 }]) {
    const empty = Registrar.fromJSON(bad, NOW);
    assert.equal(empty.size, 0);
  }
  // A lowered limit: the newest of a line are kept.
  const many = {
    version: 1,
    bindings: [1, 2, 3].map((n) => ({ ...good, contact: `sip:alice@192.0.2.${n}`, cseq: n })),
  };
  const limited = Registrar.fromJSON(many, NOW, { maxBindingsPerLine: 2 });
  assert.deepEqual(
    limited.contactsOf("alice", NOW).map((b) => b.cseq),
    [2, 3],
  );
});
