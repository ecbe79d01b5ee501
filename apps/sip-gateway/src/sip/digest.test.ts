import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { test } from "node:test";
import fc from "fast-check";
import {
  answerChallenge,
  answerStale,
  challengeHeaders,
  DIGEST_ALGORITHMS,
  type DigestAlgorithm,
  DigestConfigError,
  type DigestNonceStore,
  DigestNonces,
  digestResponse,
  findCredentials,
  ha1,
  parseAuthorization,
  verifyDigest,
} from "./digest.ts";
import { parseSip } from "./sip-message.ts";

// RFC 7616 §3.9.1: one request, answered once with MD5 and once with SHA-256.
const RFC7616 = {
  username: "Mufasa",
  password: "Circle of Life",
  realm: "http-auth@example.org",
  nonce: "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
  cnonce: "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
  opaque: "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS",
  uri: "/dir/index.html",
  responses: {
    MD5: "8ca523f5e9506fed4657c9700eebdbec",
    "SHA-256": "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1",
  } satisfies Record<DigestAlgorithm, string>,
};

/** Accepts one foreign nonce (the RFC's) as if it were ours, counting nc like DigestNonces. */
function acceptingOnly(nonce: string): DigestNonceStore {
  let highest = 0;
  return {
    check: (n) => (n === nonce ? "ok" : "invalid"),
    recordCount: (n, nc) => {
      if (n !== nonce) return "invalid";
      if (nc <= highest) return "replay";
      highest = nc;
      return "ok";
    },
  };
}

const REALM = "sori.example";
const NOW = 1_750_000_000_000;
const PASSWORDS: Record<string, string> = { alice: "correct horse", bob: "hunter2" };

function lookup(calls: string[] = []) {
  return (username: string, algorithm: DigestAlgorithm): string | undefined => {
    calls.push(username);
    const password = PASSWORDS[username];
    return password === undefined ? undefined : ha1(algorithm, username, REALM, password);
  };
}

/** What a phone sends after a challenge: the Authorization value for one request. */
function phoneAnswer(o: {
  nonce: string;
  algorithm: DigestAlgorithm;
  username?: string;
  password?: string;
  nc?: number;
  method?: string;
  uri?: string;
  qop?: boolean;
}): string {
  const username = o.username ?? "alice";
  const uri = o.uri ?? `sip:${REALM}`;
  const nc = (o.nc ?? 1).toString(16).padStart(8, "0");
  const cnonce = "0a4f113b";
  const qop = o.qop ?? true;
  const response = digestResponse({
    algorithm: o.algorithm,
    ha1: ha1(o.algorithm, username, REALM, o.password ?? PASSWORDS[username] ?? "x"),
    nonce: o.nonce,
    method: o.method ?? "REGISTER",
    uri,
    ...(qop ? { qop: { qop: "auth", nc, cnonce } } : {}),
  });
  const q = qop ? `, qop=auth, nc=${nc}, cnonce="${cnonce}"` : "";
  return `Digest username="${username}", realm="${REALM}", nonce="${o.nonce}", uri="${uri}", response="${response}", algorithm=${o.algorithm}${q}`;
}

test("RFC 7616 §3.9.1: HA1 and responses come out exactly as the RFC's, for MD5 and SHA-256", () => {
  for (const algorithm of ["MD5", "SHA-256"] as const) {
    const header = [
      `Digest username="${RFC7616.username}"`,
      `realm="${RFC7616.realm}"`,
      `uri="${RFC7616.uri}"`,
      `algorithm=${algorithm}`,
      `nonce="${RFC7616.nonce}"`,
      "nc=00000001",
      `cnonce="${RFC7616.cnonce}"`,
      "qop=auth",
      `response="${RFC7616.responses[algorithm]}"`,
      `opaque="${RFC7616.opaque}"`,
    ].join(",\r\n       ");
    // Through the SIP parser, which unfolds the header as a phone would fold it.
    const sip = parseSip(
      `REGISTER sip:example.org SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\nFrom: <sip:a@example.org>;tag=1\r\nTo: <sip:a@example.org>\r\nCall-ID: c\r\nCSeq: 1 REGISTER\r\nAuthorization: ${header}\r\nContent-Length: 0\r\n\r\n`,
    );
    assert.equal(sip.type, "request", sip.type === "invalid" ? sip.reason : "");
    if (sip.type !== "request") return;
    const credentials = findCredentials(sip, "www", RFC7616.realm);
    assert.equal(credentials?.type, "digest");
    if (credentials?.type !== "digest") return;
    assert.equal(credentials.opaque, RFC7616.opaque);
    const stored = ha1(algorithm, RFC7616.username, RFC7616.realm, RFC7616.password);
    assert.equal(
      digestResponse({
        algorithm,
        ha1: stored,
        nonce: RFC7616.nonce,
        method: "GET",
        uri: RFC7616.uri,
        qop: { qop: "auth", nc: "00000001", cnonce: RFC7616.cnonce },
      }),
      RFC7616.responses[algorithm],
    );
    const result = verifyDigest({
      method: "GET",
      credentials,
      realm: RFC7616.realm,
      nonces: acceptingOnly(RFC7616.nonce),
      now: NOW,
      lookup: (u, a) => (u === "Mufasa" && a === algorithm ? stored : undefined),
    });
    assert.deepEqual(result, { ok: true, username: "Mufasa", algorithm });
  }
});

test("RFC 2617 §3.5: the MD5 example response", () => {
  const stored = ha1("MD5", "Mufasa", "testrealm@host.com", "Circle Of Life");
  const header =
    'Digest username="Mufasa", realm="testrealm@host.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="/dir/index.html", qop=auth, nc=00000001, cnonce="0a4f113b", response="6629fae49393a05397450978507c4ef1", opaque="5ccc069c403ebaf9f0171e9517f40e41"';
  const result = verifyDigest({
    method: "GET",
    credentials: header,
    realm: "testrealm@host.com",
    nonces: acceptingOnly("dcd98b7102dd2f0e8b11d0f600bfb0c093"),
    now: NOW,
    lookup: () => stored,
  });
  assert.deepEqual(result, { ok: true, username: "Mufasa", algorithm: "MD5" });
});

test("a challenge offers SHA-256 then MD5 with one fresh nonce, and a phone's answer to either passes", () => {
  const nonces = new DigestNonces(randomBytes(32));
  const headers = challengeHeaders("www", REALM, nonces, NOW);
  assert.deepEqual(DIGEST_ALGORITHMS, ["SHA-256", "MD5"]);
  assert.deepEqual(
    headers.map(([name]) => name),
    ["WWW-Authenticate", "WWW-Authenticate"],
  );
  const nonce = /nonce="([^"]+)"/.exec(headers[0]![1])?.[1] ?? "";
  assert.equal(headers[0]![1], `Digest realm="${REALM}", nonce="${nonce}", algorithm=SHA-256, qop="auth"`);
  assert.equal(headers[1]![1], `Digest realm="${REALM}", nonce="${nonce}", algorithm=MD5, qop="auth"`);
  assert.equal(nonces.check(nonce, NOW), "ok");
  for (const algorithm of ["SHA-256", "MD5"] as const) {
    const fresh = nonces.issue(NOW);
    const result = verifyDigest({
      method: "REGISTER",
      credentials: phoneAnswer({ nonce: fresh, algorithm }),
      realm: REALM,
      nonces,
      now: NOW + 1000,
      lookup: lookup(),
    });
    assert.deepEqual(result, { ok: true, username: "alice", algorithm });
  }
  const proxy = challengeHeaders("proxy", 'a "quoted" realm', nonces, NOW, { stale: true, opaque: "o1" });
  assert.equal(proxy[0]![0], "Proxy-Authenticate");
  assert.match(
    proxy[0]![1],
    /^Digest realm="a \\"quoted\\" realm", nonce="[^"]+", algorithm=SHA-256, qop="auth", opaque="o1", stale=true$/,
  );
});

test("a nonce is stale after its lifetime, and only a right password learns so", () => {
  const nonces = new DigestNonces(randomBytes(32), { lifetimeMs: 300_000 });
  const nonce = nonces.issue(NOW);
  assert.equal(nonces.check(nonce, NOW + 300_000), "ok");
  assert.equal(nonces.check(nonce, NOW + 300_001), "stale");
  const later = (password?: string): ReturnType<typeof verifyDigest> =>
    verifyDigest({
      method: "REGISTER",
      credentials: phoneAnswer({ nonce, algorithm: "SHA-256", ...(password ? { password } : {}) }),
      realm: REALM,
      nonces,
      now: NOW + 301_000,
      lookup: lookup(),
    });
  assert.deepEqual(later(), { ok: false, reason: "stale-nonce" });
  assert.deepEqual(later("wrong"), { ok: false, reason: "wrong-password" });
  assert.equal(answerStale("stale-nonce"), true);
  assert.equal(answerStale("wrong-password"), false);
  // A clock that stepped back far: the nonce was ours, so stale (a fresh one fixes it), not invalid.
  assert.equal(nonces.check(nonce, NOW - 60_000), "stale");
});

test("a forged, altered or foreign nonce is invalid", () => {
  const secret = randomBytes(32);
  const nonces = new DigestNonces(secret);
  const nonce = nonces.issue(NOW);
  const flip = (s: string, i: number): string => s.slice(0, i) + (s[i] === "A" ? "B" : "A") + s.slice(i + 1);
  assert.equal(nonces.check(flip(nonce, 3), NOW), "invalid"); // the issue time
  assert.equal(nonces.check(flip(nonce, 30), NOW), "invalid"); // the MAC
  assert.equal(nonces.check(new DigestNonces(randomBytes(32)).issue(NOW), NOW), "invalid");
  assert.equal(nonces.check(randomBytes(32).toString("base64url"), NOW), "invalid");
  assert.equal(nonces.check("", NOW), "invalid");
  assert.equal(nonces.check(`${nonce}=`, NOW), "invalid");
  // Same secret, another instance (a restarted gateway): still valid.
  assert.equal(new DigestNonces(secret).check(nonce, NOW), "ok");
  const result = verifyDigest({
    method: "REGISTER",
    credentials: phoneAnswer({ nonce: flip(nonce, 3), algorithm: "MD5" }),
    realm: REALM,
    nonces,
    now: NOW,
    lookup: lookup(),
  });
  assert.deepEqual(result, { ok: false, reason: "invalid-nonce" });
  assert.throws(
    () => new DigestNonces(new Uint8Array(8)),
    (e) => e instanceof DigestConfigError && e.code === "digest-config",
  );
});

test("a nonce-count must grow: a repeated or lower nc is a replay, a failed guess uses nothing up", () => {
  const nonces = new DigestNonces(randomBytes(32));
  const nonce = nonces.issue(NOW);
  const send = (nc: number, password?: string): ReturnType<typeof verifyDigest> =>
    verifyDigest({
      method: "REGISTER",
      credentials: phoneAnswer({ nonce, algorithm: "SHA-256", nc, ...(password ? { password } : {}) }),
      realm: REALM,
      nonces,
      now: NOW,
      lookup: lookup(),
    });
  assert.equal(send(1).ok, true);
  assert.deepEqual(send(1), { ok: false, reason: "replay" });
  assert.equal(answerStale("replay"), true);
  // A wrong response with a high nc is not counted.
  assert.deepEqual(send(9, "wrong"), { ok: false, reason: "wrong-password" });
  assert.equal(send(3).ok, true);
  assert.deepEqual(send(2), { ok: false, reason: "replay" });
  assert.equal(send(4).ok, true);
});

test("an RFC 2069 phone (MD5, no qop) is accepted once per nonce; SHA-256 without qop is not", () => {
  const nonces = new DigestNonces(randomBytes(32));
  const nonce = nonces.issue(NOW);
  const send = (algorithm: DigestAlgorithm): ReturnType<typeof verifyDigest> =>
    verifyDigest({
      method: "REGISTER",
      credentials: phoneAnswer({ nonce, algorithm, qop: false }),
      realm: REALM,
      nonces,
      now: NOW,
      lookup: lookup(),
    });
  assert.equal(send("MD5").ok, true);
  assert.deepEqual(send("MD5"), { ok: false, reason: "replay" });
  assert.deepEqual(send("SHA-256"), { ok: false, reason: "malformed" });
  // No algorithm parameter means MD5.
  const other = nonces.issue(NOW);
  const header = phoneAnswer({ nonce: other, algorithm: "MD5", qop: false }).replace(", algorithm=MD5", "");
  assert.equal(
    verifyDigest({
      method: "REGISTER",
      credentials: header,
      realm: REALM,
      nonces,
      now: NOW,
      lookup: lookup(),
    }).ok,
    true,
  );
});

test("an unknown user and a wrong password do the same work and both fail", () => {
  const nonces = new DigestNonces(randomBytes(32));
  const calls: string[] = [];
  const send = (username: string, password: string): ReturnType<typeof verifyDigest> =>
    verifyDigest({
      method: "REGISTER",
      credentials: phoneAnswer({ nonce: nonces.issue(NOW), algorithm: "SHA-256", username, password }),
      realm: REALM,
      nonces,
      now: NOW,
      lookup: lookup(calls),
    });
  assert.deepEqual(send("mallory", "guess"), { ok: false, reason: "unknown-user" });
  assert.deepEqual(send("bob", "guess"), { ok: false, reason: "wrong-password" });
  assert.deepEqual(calls, ["mallory", "bob"]);
  assert.equal(answerStale("unknown-user"), answerStale("wrong-password"));
  // Even a response computed from an all-zero HA1 does not pass for someone absent.
  const zero = nonces.issue(NOW);
  const forged = digestResponse({
    algorithm: "MD5",
    ha1: "0".repeat(32),
    nonce: zero,
    method: "REGISTER",
    uri: `sip:${REALM}`,
    qop: { qop: "auth", nc: "00000001", cnonce: "x" },
  });
  const header = `Digest username="mallory", realm="${REALM}", nonce="${zero}", uri="sip:${REALM}", response="${forged}", qop=auth, nc=00000001, cnonce="x"`;
  assert.equal(
    verifyDigest({
      method: "REGISTER",
      credentials: header,
      realm: REALM,
      nonces,
      now: NOW,
      lookup: lookup(),
    }).ok,
    false,
  );
});

test("the method and digest-uri are part of the response; realm and algorithm are checked", () => {
  const nonces = new DigestNonces(randomBytes(32));
  const base = { realm: REALM, nonces, now: NOW, lookup: lookup() };
  const answer = phoneAnswer({ nonce: nonces.issue(NOW), algorithm: "SHA-256", method: "REGISTER" });
  assert.deepEqual(verifyDigest({ ...base, method: "INVITE", credentials: answer }), {
    ok: false,
    reason: "wrong-password",
  });
  const uri = phoneAnswer({ nonce: nonces.issue(NOW), algorithm: "MD5", uri: "sip:other.example" });
  assert.equal(verifyDigest({ ...base, method: "REGISTER", credentials: uri }).ok, true);
  const fresh = phoneAnswer({ nonce: nonces.issue(NOW), algorithm: "MD5" });
  assert.deepEqual(verifyDigest({ ...base, realm: "elsewhere", method: "REGISTER", credentials: fresh }), {
    ok: false,
    reason: "wrong-realm",
  });
  for (const algorithm of ["MD5-sess", "SHA-512-256", "SHA-256-sess"])
    assert.deepEqual(
      verifyDigest({
        ...base,
        method: "REGISTER",
        credentials: fresh.replace("algorithm=MD5", `algorithm=${algorithm}`),
      }),
      { ok: false, reason: "unsupported-algorithm" },
    );
  // Algorithm names in any case, the way some phones write them.
  const lower = phoneAnswer({ nonce: nonces.issue(NOW), algorithm: "SHA-256" }).replace(
    "algorithm=SHA-256",
    'algorithm="sha-256"',
  );
  assert.equal(verifyDigest({ ...base, method: "REGISTER", credentials: lower }).ok, true);
});

test("parses quoted strings with escapes and commas, any-case names and scheme, unknown params", () => {
  const c = parseAuthorization(
    'dIgEsT  USERNAME="Mu\\"fa\\\\sa, jr", Realm="r,1" ,, nonce=abc,uri="sip:a@b;x=\\"y\\"",response="00",x-custom = "v w" , Algorithm=MD5, userhash=false,',
  );
  assert.equal(c.type, "digest", c.type === "invalid" ? c.reason : "");
  if (c.type !== "digest") return;
  assert.equal(c.username, 'Mu"fa\\sa, jr');
  assert.equal(c.realm, "r,1");
  assert.equal(c.nonce, "abc");
  assert.equal(c.uri, 'sip:a@b;x="y"');
  assert.equal(c.algorithm, "MD5");
  assert.equal(c.params["x-custom"], "v w");
  assert.equal(c.params.userhash, "false");
  assert.equal(c.qop, undefined);
});

test("malformed credentials give a reason or `malformed`, never an exception", () => {
  const nonces = new DigestNonces(randomBytes(32));
  const good = phoneAnswer({ nonce: nonces.issue(NOW), algorithm: "SHA-256" });
  const cases = [
    "",
    "Digest",
    "Basic YWxhZGRpbjpvcGVuc2VzYW1l",
    "Digest username",
    'Digest username="alice',
    'Digest username="alice" realm="x"',
    "Digest =x",
    'Digest username="a", username="b", realm="r", nonce="n", uri="u", response="r"',
    good.replace(/, response="[^"]+"/, ""),
    good.replace(/, nonce="[^"]+"/, ""),
    good.replace(/, uri="[^"]+"/, ""),
    good.replace(/nc=\w+/, "nc=1"),
    good.replace(/nc=\w+/, "nc=00000000"),
    good.replace(/nc=\w+/, "nc=0000000g"),
    good.replace(/, cnonce="[^"]+"/, ""),
    good.replace("qop=auth", "qop=auth-int"),
    good.replace(/response="[0-9a-f]+"/, 'response="abc"'),
    good.replace(/response="[0-9a-f]{64}"/, `response="${"z".repeat(64)}"`),
    `${good}\r\nVia: injected`,
    `Digest ${Array.from({ length: 31 }, (_, i) => `p${i}=1`).join(", ")}, ${good.slice(7)}`,
    `Digest username="${"a".repeat(20_000)}", realm="r", nonce="n", uri="u", response="r"`,
    "Digest \u0000",
  ];
  for (const value of cases) {
    const result = verifyDigest({
      method: "REGISTER",
      credentials: value,
      realm: REALM,
      nonces,
      now: NOW,
      lookup: lookup(),
    });
    assert.deepEqual(result, { ok: false, reason: "malformed" }, value.slice(0, 80));
  }
  assert.equal(findCredentials({ headers: [] }, "www", REALM), undefined);
  // Another scheme is no Digest credentials at all: the request is challenged, not refused.
  assert.equal(
    findCredentials({ headers: [["Authorization", "NoOneKnowsThisScheme opaque-data=here"]] }, "www", REALM),
    undefined,
  );
  fc.assert(
    fc.property(fc.string({ maxLength: 300 }), (s) => {
      const value = `Digest ${s}`;
      const parsed = parseAuthorization(value);
      assert.ok(parsed.type === "digest" || parsed.reason.length > 0);
      const r = verifyDigest({
        method: "REGISTER",
        credentials: value,
        realm: REALM,
        nonces,
        now: NOW,
        lookup: lookup(),
      });
      assert.equal(r.ok, false);
    }),
    { numRuns: 2000 },
  );
});

test("the nc table is bounded: a forgotten nonce becomes stale, never replayable", () => {
  const nonces = new DigestNonces(randomBytes(32), { maxTracked: 3 });
  const issued = [0, 1, 2, 3].map((i) => nonces.issue(NOW + i));
  const send = (nonce: string, nc: number): ReturnType<typeof verifyDigest> =>
    verifyDigest({
      method: "REGISTER",
      credentials: phoneAnswer({ nonce, algorithm: "MD5", nc }),
      realm: REALM,
      nonces,
      now: NOW + 10,
      lookup: lookup(),
    });
  for (const nonce of issued) assert.equal(send(nonce, 1).ok, true);
  assert.equal(nonces.tracked, 3);
  // The first one's count was forgotten: the same nc again must not pass.
  assert.deepEqual(send(issued[0]!, 1), { ok: false, reason: "stale-nonce" });
  assert.deepEqual(send(issued[3]!, 1), { ok: false, reason: "replay" });
  assert.equal(send(issued[3]!, 2).ok, true);
  // Expired nonces make room without forgetting anything that still counts.
  const late = nonces.issue(NOW + 400_000);
  assert.equal(
    verifyDigest({
      method: "REGISTER",
      credentials: phoneAnswer({ nonce: late, algorithm: "MD5" }),
      realm: REALM,
      nonces,
      now: NOW + 400_000,
      lookup: lookup(),
    }).ok,
    true,
  );
  assert.equal(nonces.tracked, 1);
});

test("as a client (a trunk challenging the gateway): the answer to our own challenge verifies, for either algorithm", () => {
  const nonces = new DigestNonces(randomBytes(32));
  const now = Date.now();
  for (const algorithms of [["SHA-256", "MD5"], ["MD5"]] as const) {
    const offered = challengeHeaders("proxy", "trunk.example", nonces, now, { algorithms }).map(([, v]) => v);
    const answer = answerChallenge(offered, {
      username: "gw",
      password: "trunk secret",
      method: "INVITE",
      uri: "sip:+821012345678@trunk.example",
    });
    assert.ok(answer);
    assert.match(answer, new RegExp(`algorithm=${algorithms[0]}`));
    const result = verifyDigest({
      method: "INVITE",
      credentials: answer,
      realm: "trunk.example",
      nonces,
      now,
      lookup: (u, a) => (u === "gw" ? ha1(a, "gw", "trunk.example", "trunk secret") : undefined),
    });
    assert.deepEqual(result, { ok: true, username: "gw", algorithm: algorithms[0] });
  }
  // Nothing computable (an unknown algorithm, auth-int only, garbage): no answer rather than a wrong one.
  assert.equal(
    answerChallenge(
      [
        'Digest realm="r", nonce="n", algorithm=SHA-512-256',
        'Digest realm="r", nonce="n", qop="auth-int"',
        "Basic realm=x",
      ],
      {
        username: "u",
        password: "p",
        method: "INVITE",
        uri: "sip:x@y",
      },
    ),
    undefined,
  );
});
