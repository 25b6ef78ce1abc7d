export {
  ALERT_ACTIONS_BLOCK_ID,
  DELETE_ACTION_ID,
  DELETED_BLOCK_ID,
  renderAlert,
  renderDeleted,
  type AlertOptions,
  type DeletedInfo,
} from './alert.ts';
export { renderDigest, type ListCommand } from './digest-message.ts';
export {
  cleanText,
  code,
  escapeMrkdwn,
  mentionUser,
  mrkdwn,
  mrkdwnLink,
  neutralizeBackticks,
  plain,
  safeHttpUrl,
  slackDate,
  truncate,
} from './escape.ts';
export { checkLimits, LIMITS } from './limits.ts';
export { mrkdwnText, oneLine, plainText } from './text.ts';
export type * from './types.ts';
export { describeMute, heldText, renderMuteEnded, type MuteView } from './mute.ts';
export { renderTestAlert, sampleEvent } from './test-alert.ts';
export { messageContent, readMessage } from './wire.ts';
export { SEVERITY_STYLE, severityLabel } from './severity-style.ts';
export { haloDate } from './slack-date.ts';
export {
  ACTION_IDS,
  decodeDeleteValue,
  decodeEventsPage,
  decodeUnfurlAck,
  encodeDeleteValue,
  encodeEventsPage,
  encodeUnfurlAck,
  type EventsPageRequest,
} from './payloads.ts';
export { DIALOG_IDS } from './dialog-payloads.ts';
export {
  ACK_ACTION_ID,
  ACKED_BLOCK_ID,
  decodeAckValue,
  decodeMuteChoice,
  encodeAckValue,
  encodeMuteChoice,
  MUTE_MENU_ACTION_ID,
  MUTE_MENU_DURATIONS,
  renderAcknowledged,
  type AckView,
  type MuteChoice,
  type MuteMenuDuration,
} from './alert-actions.ts';
export { GONE_BLOCK_ID, renderGone, type GoneView } from './gone.ts';
export { renderPreview, UNFURL_ACK_ACTION_ID, type PreviewView } from './unfurl.ts';
