#!/usr/bin/python3
"""An XMPP user for Sori's gateway tests, on slixmpp (Debian's python3-slixmpp), not our code.

Usage: xmpp-user.py JID PASSWORD HOST PORT. Reads commands as JSON lines on stdin:
  {"op": "send", "to": JID, "body": TEXT, "id": ID?, "receipt": BOOL?}
  {"op": "raw", "xml": TEXT}              a stanza as XML text, sent as it is
  {"op": "quit"}
and prints what happens as JSON lines on stdout: {"event": "online"}, {"event": "message", ...},
{"event": "receipt", "id": ...}, {"event": "error", ...}.
"""
import asyncio
import json
import sys

import slixmpp


def emit(obj):
    sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")
    sys.stdout.flush()


class User(slixmpp.ClientXMPP):
    def __init__(self, jid, password):
        super().__init__(jid, password)
        self.register_plugin("xep_0030")
        self.register_plugin("xep_0199")
        self.register_plugin("xep_0184")
        self["xep_0184"].auto_ack = True
        self["xep_0184"].auto_request = False
        self.add_event_handler("session_start", self.started)
        self.add_event_handler("message", self.message)
        self.add_event_handler("message_error", self.message)
        self.add_event_handler("receipt_received", self.receipt)
        self.add_event_handler("disconnected", lambda _e: emit({"event": "disconnected"}))

    async def started(self, _event):
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
        emit(out)

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
                m.send()
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
