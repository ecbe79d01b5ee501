export {
  type AccountKeys,
  accountKeysOf,
  certifyDevice,
  generateAccountKeys,
  verifyDeviceCertificate,
} from "./account-key.ts";
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
export { addMembers, commitChanges, createGroup, joinFromWelcome, removeMembers } from "./membership.ts";
export { generateTransferKeys, openSecret, sealSecret, type TransferKeys } from "./key-transfer.ts";
export { readMessageHeader } from "./message-header.ts";
export { encrypt, processMessage } from "./messages.ts";
export * from "./types.ts";
export { rejoinRequest, verifyRejoinRequest } from "./rejoin.ts";
export { pad as padPlaintext, padmeLength, unpad as unpadPlaintext } from "./padding.ts";
