/** Size limits the SDK enforces before anything is encrypted or sent (the content schema matches them). */

/** Longest text message, edit or caption, in characters. */
export const MAX_TEXT_CHARS = 16_000;
/** Longest reason a gateway gives for messages the other network refused (the "undelivered" content). */
export const MAX_UNDELIVERED_REASON_CHARS = 300;
/** A group name has 1 to this many characters. */
export const MAX_GROUP_NAME_CHARS = 100;
/** Longest display name, in characters. */
export const MAX_DISPLAY_NAME_CHARS = 64;
/** Largest avatar accepted by setProfile, in bytes (it travels inside one message). */
export const MAX_AVATAR_BYTES = 45_000;
/** Largest thumbnail of a file, as base64 characters (about 15 KB of image). */
export const MAX_THUMBNAIL_BASE64_CHARS = 20_000;
/** Longest file name kept with an attachment. */
export const MAX_FILE_NAME_CHARS = 255;
/** Longest MIME type kept with an attachment. */
export const MAX_MIME_CHARS = 100;
/** A sticker pack name has 1 to this many characters. */
export const MAX_PACK_NAME_CHARS = 64;
