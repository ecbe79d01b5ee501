export { generateDeviceKeys } from "./device-keys.ts";
export { exportSecret } from "./exporter.ts";
export {
  decodeGroup,
  encodeGroup,
  groupEpoch,
  groupIdOf,
  groupMembers,
  isActive,
  type MlsGroup,
} from "./group.ts";
export {
  decodeKeyPackageBundle,
  encodeKeyPackageBundle,
  generateKeyPackage,
  KEY_PACKAGE_LIFETIME_SECONDS,
  keyPackageIdentity,
} from "./key-package.ts";
export { addMembers, createGroup, joinFromWelcome, removeMembers } from "./membership.ts";
export { readMessageHeader } from "./message-header.ts";
export { encrypt, processMessage } from "./messages.ts";
export * from "./types.ts";
