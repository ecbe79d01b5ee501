import type { TableEntry } from "./command.ts";
import { answerCommand } from "./commands/answer.ts";
import { callCommand } from "./commands/call.ts";
import { chatsCommand } from "./commands/chats.ts";
import { contactsCommand } from "./commands/contacts.ts";
import { devicesCommand } from "./commands/devices.ts";
import { groupCommand } from "./commands/group.ts";
import { historyCommand } from "./commands/history.ts";
import { linkCommand } from "./commands/link.ts";
import { loginCommand } from "./commands/login.ts";
import { logoutCommand } from "./commands/logout.ts";
import { passwordCommand } from "./commands/password.ts";
import { pushCommand } from "./commands/push.ts";
import { receiveCommand } from "./commands/receive.ts";
import { registerCommand } from "./commands/register.ts";
import { safetyNumberCommand } from "./commands/safety-number.ts";
import { sendCommand } from "./commands/send.ts";
import { serverCommand } from "./commands/server.ts";
import { sipGatewayCommand } from "./commands/sip-gateway.ts";
import { xmppGatewayCommand } from "./commands/xmpp-gateway.ts";
import { sipPhoneCommand } from "./commands/sip-phone.ts";
import { timerCommand } from "./commands/timer.ts";

/** Every `sori` command, in the order `sori --help` lists them. */
export const COMMANDS: readonly TableEntry[] = [
  serverCommand,
  registerCommand,
  loginCommand,
  linkCommand,
  sendCommand,
  receiveCommand,
  chatsCommand,
  contactsCommand,
  historyCommand,
  groupCommand,
  timerCommand,
  safetyNumberCommand,
  devicesCommand,
  pushCommand,
  passwordCommand,
  logoutCommand,
  callCommand,
  answerCommand,
  sipGatewayCommand,
  sipPhoneCommand,
  xmppGatewayCommand,
];
