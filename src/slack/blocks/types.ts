/**
 * The few Block Kit shapes this bot sends, defined here so the renderers stay free of `@slack/*`.
 * Field names follow Slack's JSON exactly: these objects go on the wire as they are.
 */

export interface PlainText {
  readonly type: 'plain_text';
  readonly text: string;
  readonly emoji?: boolean;
}

export interface MrkdwnText {
  readonly type: 'mrkdwn';
  readonly text: string;
  /** `true` stops Slack from auto-linking URLs and channel names and from parsing bare mentions. */
  readonly verbatim?: boolean;
}

export type TextObject = PlainText | MrkdwnText;

export interface ConfirmDialog {
  readonly title: PlainText;
  readonly text: TextObject;
  readonly confirm: PlainText;
  readonly deny: PlainText;
  readonly style?: 'primary' | 'danger';
}

export interface ButtonElement {
  readonly type: 'button';
  readonly text: PlainText;
  readonly action_id: string;
  readonly value?: string;
  readonly url?: string;
  readonly style?: 'primary' | 'danger';
  readonly confirm?: ConfirmDialog;
}

export interface OptionObject {
  readonly text: PlainText;
  readonly value: string;
}

export interface OptionGroup {
  readonly label: PlainText;
  readonly options: readonly OptionObject[];
}

/** A menu; this bot uses option groups only. */
export interface StaticSelectElement {
  readonly type: 'static_select';
  readonly action_id: string;
  readonly placeholder: PlainText;
  readonly option_groups: readonly OptionGroup[];
}

export interface HeaderBlock {
  readonly type: 'header';
  readonly block_id?: string;
  readonly text: PlainText;
}

export interface SectionBlock {
  readonly type: 'section';
  readonly block_id?: string;
  readonly text?: TextObject;
  readonly fields?: readonly TextObject[];
  readonly accessory?: ButtonElement;
}

export interface ContextBlock {
  readonly type: 'context';
  readonly block_id?: string;
  readonly elements: readonly TextObject[];
}

export interface ActionsBlock {
  readonly type: 'actions';
  readonly block_id?: string;
  readonly elements: readonly (ButtonElement | StaticSelectElement)[];
}

export interface DividerBlock {
  readonly type: 'divider';
  readonly block_id?: string;
}

export type Block = HeaderBlock | SectionBlock | ContextBlock | ActionsBlock | DividerBlock;

/** What `chat.postMessage` / `chat.update` / `response_url` need: blocks plus the notification fallback. */
export interface SlackMessage {
  text: string;
  blocks: Block[];
  /**
   * A colour bar (`#RRGGBB`) beside the blocks. Block Kit has none: the sender wraps the blocks in one legacy
   * attachment with this `color`, and the top-level `text` stays the notification.
   */
  color?: string;
}
