export { ibanValid, luhnValid } from "./checksums.js";
export { type ChatBodyLike, extractFeatures, type RequestFeatures } from "./extract.js";
export { IBAN_LENGTHS } from "./iban-registry.js";
export { type ChatMessage, type ContentPart, lastUserText, PII_ROLES, piiScanText } from "./messages.js";
export { detectPii, PII_KINDS, PII_SCAN_LIMIT_CHARS, type PiiKind, type PiiResult } from "./pii.js";
export { CLASSIFY_SCAN_LIMIT_CHARS, classifyTask } from "./task-class.js";
export {
  CHARS_PER_TOKEN,
  estimateTokens,
  MESSAGE_OVERHEAD_TOKENS,
  NON_TEXT_PART_TOKENS,
  REPLY_PRIMING_TOKENS,
} from "./tokens.js";
