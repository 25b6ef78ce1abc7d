import type { Block, ButtonElement, ConfirmDialog, StaticSelectElement, TextObject } from './types.ts';

/**
 * Slack's Block Kit limits, in characters. We count UTF-16 code units (JavaScript's `length`), which is never
 * fewer than what Slack counts, so staying under these in JavaScript stays under them in Slack.
 */
export const LIMITS = {
  /** More blocks and `chat.postMessage` fails with `invalid_blocks`. */
  blocksPerMessage: 50,
  sectionText: 3000,
  /** A section may hold at most 10 fields, each at most 2000 characters. */
  fields: 10,
  fieldText: 2000,
  /** Headers are plain_text only and short: longer text is rejected, not wrapped. */
  headerText: 150,
  /** Every text object must be 1 to 3000 characters: an empty string is as invalid as a long one. */
  textObject: 3000,
  contextText: 3000,
  contextElements: 10,
  /** An actions block holds at most 25 elements. */
  actionsElements: 25,
  buttonText: 75,
  /** A select's placeholder, group labels and option texts. */
  optionText: 75,
  /** An option's value comes back verbatim when picked; far shorter than a button's. */
  optionValue: 150,
  selectOptions: 100,
  actionId: 255,
  /** The button value comes back verbatim in the interaction payload; anything longer is refused at post time. */
  buttonValue: 2000,
  buttonUrl: 3000,
  blockId: 255,
  confirmTitle: 100,
  confirmText: 300,
  /** Applies to the confirm and deny buttons alike. */
  confirmButton: 30,
  /** Slack truncates top-level `text` beyond 40,000 characters; the fallback is far shorter anyway. */
  messageText: 40000,
} as const;

interface CheckedMessage {
  readonly text?: string;
  readonly blocks?: readonly Block[];
}

/**
 * Lists every Block Kit limit `message` breaks, as `path: problem` strings; empty when Slack would accept it.
 * Exported so end-to-end tests can check what the fake Slack received, not only what the renderers return.
 */
export function checkLimits(message: CheckedMessage): string[] {
  const problems: string[] = [];
  const text = message.text ?? '';
  if (text.length === 0) problems.push('text: empty (Slack uses it for notifications and screen readers)');
  if (text.length > LIMITS.messageText) problems.push(`text: ${text.length} > ${LIMITS.messageText}`);

  const blocks = message.blocks ?? [];
  if (blocks.length > LIMITS.blocksPerMessage) {
    problems.push(`blocks: ${blocks.length} > ${LIMITS.blocksPerMessage}`);
  }
  const blockIds = new Set<string>();
  blocks.forEach((block, i) => {
    const at = `blocks[${i}]`;
    if (block.block_id !== undefined) {
      checkLength(problems, `${at}.block_id`, block.block_id, LIMITS.blockId);
      if (blockIds.has(block.block_id)) problems.push(`${at}.block_id: duplicate "${block.block_id}"`);
      blockIds.add(block.block_id);
    }
    checkBlock(problems, at, block);
  });
  return problems;
}

function checkBlock(problems: string[], at: string, block: Block): void {
  switch (block.type) {
    case 'header':
      checkText(problems, `${at}.text`, block.text, LIMITS.headerText, 'plain_text');
      return;
    case 'section': {
      if (block.text === undefined && (block.fields === undefined || block.fields.length === 0)) {
        problems.push(`${at}: a section needs text or fields`);
      }
      if (block.text !== undefined) checkText(problems, `${at}.text`, block.text, LIMITS.sectionText);
      const fields = block.fields ?? [];
      if (fields.length > LIMITS.fields) problems.push(`${at}.fields: ${fields.length} > ${LIMITS.fields}`);
      fields.forEach((field, j) => {
        checkText(problems, `${at}.fields[${j}]`, field, LIMITS.fieldText);
      });
      return;
    }
    case 'context':
      checkCount(problems, `${at}.elements`, block.elements.length, LIMITS.contextElements);
      block.elements.forEach((element, j) => {
        checkText(problems, `${at}.elements[${j}]`, element, LIMITS.contextText);
      });
      return;
    case 'actions':
      checkCount(problems, `${at}.elements`, block.elements.length, LIMITS.actionsElements);
      block.elements.forEach((element, j) => {
        if (element.type === 'button') checkButton(problems, `${at}.elements[${j}]`, element);
        else checkSelect(problems, `${at}.elements[${j}]`, element);
      });
      return;
    case 'divider':
      return;
  }
}

function checkButton(problems: string[], at: string, button: ButtonElement): void {
  checkText(problems, `${at}.text`, button.text, LIMITS.buttonText, 'plain_text');
  checkLength(problems, `${at}.action_id`, button.action_id, LIMITS.actionId);
  if (button.value !== undefined) checkLength(problems, `${at}.value`, button.value, LIMITS.buttonValue);
  if (button.url !== undefined) checkLength(problems, `${at}.url`, button.url, LIMITS.buttonUrl);
  if (button.confirm !== undefined) checkConfirm(problems, `${at}.confirm`, button.confirm);
}

function checkSelect(problems: string[], at: string, select: StaticSelectElement): void {
  checkLength(problems, `${at}.action_id`, select.action_id, LIMITS.actionId);
  checkText(problems, `${at}.placeholder`, select.placeholder, LIMITS.optionText, 'plain_text');
  checkCount(problems, `${at}.option_groups`, select.option_groups.length, LIMITS.selectOptions);
  let options = 0;
  select.option_groups.forEach((group, g) => {
    checkText(problems, `${at}.option_groups[${g}].label`, group.label, LIMITS.optionText, 'plain_text');
    group.options.forEach((option, o) => {
      checkText(problems, `${at}.option_groups[${g}].options[${o}].text`, option.text, LIMITS.optionText);
      checkLength(
        problems,
        `${at}.option_groups[${g}].options[${o}].value`,
        option.value,
        LIMITS.optionValue,
      );
    });
    options += group.options.length;
  });
  checkCount(problems, `${at}.options`, options, LIMITS.selectOptions);
}

function checkConfirm(problems: string[], at: string, confirm: ConfirmDialog): void {
  checkText(problems, `${at}.title`, confirm.title, LIMITS.confirmTitle, 'plain_text');
  checkText(problems, `${at}.text`, confirm.text, LIMITS.confirmText);
  checkText(problems, `${at}.confirm`, confirm.confirm, LIMITS.confirmButton, 'plain_text');
  checkText(problems, `${at}.deny`, confirm.deny, LIMITS.confirmButton, 'plain_text');
}

function checkText(
  problems: string[],
  at: string,
  text: TextObject,
  max: number,
  onlyType?: TextObject['type'],
): void {
  if (onlyType !== undefined && text.type !== onlyType) problems.push(`${at}.type: must be ${onlyType}`);
  checkLength(problems, `${at}.text`, text.text, Math.min(max, LIMITS.textObject));
}

function checkLength(problems: string[], at: string, value: string, max: number): void {
  if (value.length === 0) problems.push(`${at}: empty`);
  else if (value.length > max) problems.push(`${at}: ${value.length} > ${max}`);
}

function checkCount(problems: string[], at: string, count: number, max: number): void {
  if (count === 0) problems.push(`${at}: empty`);
  else if (count > max) problems.push(`${at}: ${count} > ${max}`);
}
