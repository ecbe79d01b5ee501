export * from "./base64.ts";
export * from "./errors.ts";
export * from "./frames.ts";
export * from "./http.ts";
export * from "./limits.ts";
export * from "./schema-parts.ts";
export * from "./bridged-username.ts";
export * from "./version.ts";
export { deviceCertificateMessage } from "./device-certificate.ts";
