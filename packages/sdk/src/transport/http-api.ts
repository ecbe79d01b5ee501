import {
  API_PREFIX,
  type AuthResponse,
  type DeviceListResponse,
  ERROR_CODES,
  type ErrorCode,
  type LinkCreateResponse,
  toBase64,
} from "@sori/protocol";
import { SdkError } from "../errors.ts";

export type DeviceUploadBytes = {
  name: string;
  signatureKey: Uint8Array;
  /** The key an approving device seals the account key to (login and link). */
  transferKey?: Uint8Array;
};

function deviceBody(device: DeviceUploadBytes): { name: string; signatureKey: string; transferKey?: string } {
  return {
    name: device.name,
    signatureKey: toBase64(device.signatureKey),
    ...(device.transferKey ? { transferKey: toBase64(device.transferKey) } : {}),
  };
}

/** One HTTP API request; errors become SdkError with the server's code. */
export async function call<T>(serverUrl: string, path: string, init: RequestInit): Promise<T | undefined> {
  let res: Response;
  try {
    res = await fetch(new URL(`${API_PREFIX}${path}`, serverUrl), init);
  } catch (error) {
    throw new SdkError("offline", `cannot reach the server at ${serverUrl}`, {}, { cause: error });
  }
  if (res.status === 204) return undefined;
  let body: unknown;
  try {
    body = await res.json();
  } catch {
    throw new SdkError("bad-frame", `the server answered ${res.status} with something that is not JSON`);
  }
  if (!res.ok) {
    const err = (body as { error?: { code?: string; message?: string; details?: SdkError["details"] } })
      .error;
    const code =
      err?.code && (ERROR_CODES as readonly string[]).includes(err.code)
        ? (err.code as ErrorCode)
        : "internal";
    throw new SdkError(code, err?.message ?? `the server answered ${res.status}`, err?.details ?? {});
  }
  return body as T;
}

/** POST /register or /login with the new device's keys. */
export async function authenticate(
  serverUrl: string,
  mode: "register" | "login",
  username: string,
  password: string,
  device: DeviceUploadBytes,
): Promise<AuthResponse> {
  const body = { username, password, device: deviceBody(device) };
  const result = await call<AuthResponse>(serverUrl, `/${mode}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!result) throw new SdkError("bad-frame", "the server sent an empty answer");
  return result;
}

/** POST /bridge/identities: a gateway makes a bridged identity of its namespace, with this device. */
export async function createBridgedIdentity(
  serverUrl: string,
  gatewayToken: string,
  username: string,
  device: DeviceUploadBytes,
): Promise<AuthResponse> {
  const result = await call<AuthResponse>(serverUrl, "/bridge/identities", {
    method: "POST",
    headers: { authorization: `Bearer ${gatewayToken}`, "content-type": "application/json" },
    body: JSON.stringify({ username, device: deviceBody(device) }),
  });
  if (!result) throw new SdkError("bad-frame", "the server sent an empty answer");
  return result;
}

/** POST /password: changes the account's password; every other device is signed out. */
export async function changePassword(
  serverUrl: string,
  token: string,
  password: string,
  newPassword: string,
): Promise<void> {
  await call(serverUrl, "/password", {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({ password, newPassword }),
  });
}

/** Revokes this device's session and device on the server. */
export async function logout(serverUrl: string, token: string): Promise<void> {
  await call(serverUrl, "/logout", { method: "POST", headers: { authorization: `Bearer ${token}` } });
}

export async function listDevices(serverUrl: string, token: string): Promise<DeviceListResponse> {
  const r = await call<DeviceListResponse>(serverUrl, "/devices", {
    headers: { authorization: `Bearer ${token}` },
  });
  return r ?? { devices: [] };
}

export async function revokeDevice(serverUrl: string, token: string, deviceId: string): Promise<void> {
  await call(serverUrl, `/devices/${encodeURIComponent(deviceId)}`, {
    method: "DELETE",
    headers: { authorization: `Bearer ${token}` },
  });
}

/** POST /links: a single-use code another device can use to join this account. */
export async function createLink(serverUrl: string, token: string): Promise<LinkCreateResponse> {
  const r = await call<LinkCreateResponse>(serverUrl, "/links", {
    method: "POST",
    headers: { authorization: `Bearer ${token}` },
  });
  if (!r) throw new SdkError("bad-frame", "the server sent an empty answer");
  return r;
}

/** POST /links/claim: joins the account of the device that showed `code`. */
export async function claimLink(
  serverUrl: string,
  code: string,
  device: DeviceUploadBytes,
  proof: Uint8Array,
): Promise<AuthResponse> {
  const r = await call<AuthResponse>(serverUrl, "/links/claim", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ code, device: deviceBody(device), proof: toBase64(proof) }),
  });
  if (!r) throw new SdkError("bad-frame", "the server sent an empty answer");
  return r;
}
