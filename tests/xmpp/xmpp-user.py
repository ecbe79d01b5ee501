#!/usr/bin/python3
"""An XMPP user for Sori's gateway tests, on slixmpp (Debian's python3-slixmpp), not our code.

Usage: xmpp-user.py JID PASSWORD HOST PORT. Reads commands as JSON lines on stdin:
  {"op": "send", "to": JID, "body": TEXT, "id": ID?, "receipt": BOOL?}
      with "markable": BOOL?, "originId": ID? (XEP-0333, XEP-0359)
  {"op": "chatstate", "to": JID, "state": "composing"|"paused"|"active"|...}   XEP-0085
  {"op": "displayed", "to": JID, "of": ID}                                     XEP-0333
  {"op": "correct", "to": JID, "id": ID, "of": ID, "body": TEXT}               XEP-0308
  {"op": "retract", "to": JID, "of": ID}                                       XEP-0424 (slixmpp's form)
  {"op": "react", "to": JID, "of": ID, "reactions": [EMOJI...]}                XEP-0444
  {"op": "reply", "to": JID, "id": ID, "of": ID, "author": JID, "quote": TEXT, "body": TEXT}
      XEP-0461, the quote as slixmpp's fallback (its XEP-0428 draft namespace)
  {"op": "upload", "to": JID, "service": JID, "name": NAME, "mime": TYPE, "data": BASE64,
   "caption": TEXT?, "id": ID?}
      XEP-0363: a slot from the server's upload service, the PUT, then the link as body and
      XEP-0066 out-of-band data (as Conversations sends files); prints {"event": "uploaded", "url"}
  {"op": "link", "to": JID, "url": URL, "body": TEXT?, "id": ID?}   a file link (XEP-0066) alone
  {"op": "raw", "xml": TEXT}              a stanza as XML text, sent as it is
  {"op": "quit"}
and prints what happens as JSON lines on stdout: {"event": "online"}, {"event": "message", ...},
{"event": "receipt", "id": ...}, {"event": "presence", "from", "type", "codes"},
{"event": "error", ...}; {"event": "stanza", "xml": TEXT, "tree": ELEMENT} for every message stanza as it arrived (ELEMENT: {"name", "ns", "attrs", "text",
"children"}); and {"event": "feature", "feature": ..., ...} for what slixmpp's own plugins made of
one (chat states, markers, corrections, retractions, reactions, replies). A message's XEP-0066 link,
as slixmpp's plugin reads it, is its "oob" field.
Subscription requests are neither approved nor refused by slixmpp itself: the test answers them
(with raw presence stanzas), as a person would.
"""
import asyncio
import base64
import io
import json
import sys

import slixmpp
from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import MatchXPath


def emit(obj):
    sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def tree(el):
    """An ElementTree element as JSON: local name, namespace, attributes, text, children."""
    ns, _, name = el.tag[1:].partition("}") if el.tag.startswith("{") else ("", "", el.tag)
    return {"name": name, "ns": ns, "attrs": dict(el.attrib), "text": el.text or "",
            "children": [tree(c) for c in el]}


class User(slixmpp.ClientXMPP):
    def __init__(self, jid, password):
        super().__init__(jid, password)
        self.register_plugin("xep_0030")
        self.register_plugin("xep_0199")
        self.register_plugin("xep_0184")
        self["xep_0184"].auto_ack = True
        self["xep_0184"].auto_request = False
        for plugin in ("xep_0066", "xep_0085", "xep_0333", "xep_0308", "xep_0359", "xep_0363",
                       "xep_0424", "xep_0444", "xep_0461"):
            self.register_plugin(plugin)
        self.register_handler(Callback("every message", MatchXPath("{jabber:client}message"),
                                       self.raw_message))
        self.add_event_handler("chatstate", lambda m: self.feature("chatstate", m,
                                                                  state=m["chat_state"]))
        self.add_event_handler("marker_displayed", lambda m: self.feature(
            "displayed", m, of=m["displayed"]["id"]))
        self.add_event_handler("message_correction", lambda m: self.feature(
            "correction", m, of=m["replace"]["id"], body=m["body"]))
        self.add_event_handler("message_retract", lambda m: self.feature(
            "retraction", m, of=m["apply_to"]["id"]))
        self.add_event_handler("reactions", lambda m: self.feature(
            "reactions", m, of=m["reactions"]["id"], values=sorted(m["reactions"]["values"])))
        self.add_event_handler("message_reply", lambda m: self.feature(
            "reply", m, of=m["reply"]["id"], author=str(m["reply"]["to"])))
        # slixmpp approves every subscription request by default (and asks back); a person decides.
        self.roster.auto_authorize = None
        self.roster.auto_subscribe = False
        self.add_event_handler("session_start", self.started)
        self.add_event_handler("message", self.message)
        self.add_event_handler("message_error", self.message)
        self.add_event_handler("receipt_received", self.receipt)
        self.add_event_handler("presence", self.presence)
        # slixmpp raises "message" only for messages with a body; a room's subject has none.
        self.register_handler(Callback("subject", MatchXPath(
            "{jabber:client}message/{jabber:client}subject"), self.subject))
        self.add_event_handler("disconnected", lambda _e: emit({"event": "disconnected"}))

    async def started(self, _event):
        # As clients do: a session that fetched its roster is "interested", and only such sessions
        # get subscription approvals and refusals from the server (RFC 6121 §3.1.6, Prosody).
        await self.get_roster()
        self.send_presence()
        emit({"event": "online"})
        # Kept: asyncio holds tasks weakly, and a collected one stops reading commands.
        self.command_task = asyncio.ensure_future(self.commands())

    def message(self, msg):
        out = {"event": "message", "from": str(msg["from"]), "to": str(msg["to"]),
               "type": msg["type"], "id": msg["id"], "body": msg["body"]}
        if msg["type"] == "error":
            out["error"] = {"condition": msg["error"]["condition"], "text": msg["error"]["text"],
                            "type": msg["error"]["type"]}
        out["receiptRequested"] = msg.xml.find("{urn:xmpp:receipts}request") is not None
        invite = msg.xml.find("{jabber:x:conference}x")
        if invite is not None:
            out["invite"] = invite.get("jid")
        subject = msg.xml.find("{jabber:client}subject")
        if subject is not None:
            out["subject"] = subject.text or ""
        out["delayed"] = msg.xml.find("{urn:xmpp:delay}delay") is not None
        if msg["oob"]["url"]:
            out["oob"] = msg["oob"]["url"]
        emit(out)

    def send_link(self, to, url, body=None, id=None):
        m = self.make_message(mto=to, mbody=body if body is not None else url, mtype="chat")
        if id:
            m["id"] = id
        m["oob"]["url"] = url
        m.send()

    def subject(self, msg):
        if msg["body"]:
            return
        self.message(msg)

    def presence(self, pres):
        codes = [int(s.get("code")) for s in pres.xml.findall(
            "{http://jabber.org/protocol/muc#user}x/{http://jabber.org/protocol/muc#user}status")]
        out = {"event": "presence", "from": str(pres["from"]), "type": pres["type"], "codes": codes}
        if pres["type"] == "error":
            out["error"] = {"condition": pres["error"]["condition"], "type": pres["error"]["type"]}
        emit(out)

    def raw_message(self, msg):
        emit({"event": "stanza", "xml": str(msg), "tree": tree(msg.xml)})

    def feature(self, name, msg, **fields):
        emit({"event": "feature", "feature": name, "from": str(msg["from"]), "id": msg["id"],
              **fields})

    def receipt(self, msg):
        emit({"event": "receipt", "from": str(msg["from"]), "id": msg["receipt"]})

    async def commands(self):
        loop = asyncio.get_running_loop()
        # Room for a command line with a huge stanza (the default limit is 64 KiB).
        reader = asyncio.StreamReader(limit=16 * 1024 * 1024)
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
        while True:
            line = await reader.readline()
            if not line:
                break
            cmd = json.loads(line)
            if cmd["op"] == "quit":
                break
            if cmd["op"] == "send":
                m = self.make_message(mto=cmd["to"], mbody=cmd["body"], mtype="chat")
                if cmd.get("id"):
                    m["id"] = cmd["id"]
                if cmd.get("receipt"):
                    m["request_receipt"] = True
                if cmd.get("markable"):
                    m.enable("markable")
                if cmd.get("originId"):
                    m["origin_id"]["id"] = cmd["originId"]
                m.send()
            elif cmd["op"] == "chatstate":
                m = self.make_message(mto=cmd["to"], mtype="chat")
                m["chat_state"] = cmd["state"]
                m.send()
            elif cmd["op"] == "displayed":
                self["xep_0333"].send_marker(cmd["to"], cmd["of"], "displayed")
            elif cmd["op"] == "correct":
                m = self.make_message(mto=cmd["to"], mbody=cmd["body"], mtype="chat")
                m["id"] = cmd["id"]
                m["replace"]["id"] = cmd["of"]
                m.send()
            elif cmd["op"] == "retract":
                self["xep_0424"].send_retraction(cmd["to"], cmd["of"])
            elif cmd["op"] == "react":
                self["xep_0444"].send_reactions(cmd["to"], cmd["of"], cmd["reactions"])
            elif cmd["op"] == "reply":
                quote = "".join(f"> {line}\n" for line in cmd["quote"].split("\n"))
                m = self.make_message(mto=cmd["to"], mbody=quote + cmd["body"], mtype="chat")
                m["id"] = cmd["id"]
                m["reply"]["to"] = cmd["author"]
                m["reply"]["id"] = cmd["of"]
                m["feature_fallback"]["for"] = "urn:xmpp:reply:0"
                m["feature_fallback"]["fallback_body"]["start"] = "0"
                m["feature_fallback"]["fallback_body"]["end"] = str(len(quote))
                m.send()
            elif cmd["op"] == "upload":
                data = base64.b64decode(cmd["data"])
                # Named, not discovered: slixmpp 1.8's discovery hands asyncio.wait coroutines,
                # which Python 3.11 refuses. The slot request and the PUT are slixmpp's own.
                self["xep_0363"].upload_service = slixmpp.JID(cmd["service"])
                try:
                    url = await self["xep_0363"].upload_file(
                        cmd["name"], size=len(data), content_type=cmd["mime"],
                        input_file=io.BytesIO(data), timeout=30)
                except Exception as e:  # the test reads why
                    emit({"event": "upload-failed", "reason": repr(e)})
                    continue
                emit({"event": "uploaded", "url": url})
                self.send_link(cmd["to"], url, cmd.get("caption"), cmd.get("id"))
            elif cmd["op"] == "link":
                self.send_link(cmd["to"], cmd["url"], cmd.get("body"), cmd.get("id"))
            elif cmd["op"] == "raw":
                self.send_raw(cmd["xml"])
            emit({"event": "done", "op": cmd["op"]})
        self.disconnect()


def main():
    jid, password, host, port = sys.argv[1:5]
    user = User(jid, password)
    user.connect((host, int(port)), use_ssl=False, force_starttls=False, disable_starttls=True)
    user.loop.run_until_complete(user.disconnected)


if __name__ == "__main__":
    main()
