import type { RespondFn } from '@slack/bolt';
import type { Logger } from '../../log.ts';
import { messageContent, type SlackMessage } from '../blocks/index.ts';

/**
 * Answers through `response_url`: privately, or replacing the message a button was on. A failure is logged and
 * swallowed: the request was acknowledged already, and there is no one else to tell.
 */
export async function reply(
  respond: RespondFn,
  message: SlackMessage,
  log: Logger,
  replaceOriginal = false,
): Promise<void> {
  try {
    await respond(
      replaceOriginal
        ? { replace_original: true, ...messageContent(message) }
        : { response_type: 'ephemeral', replace_original: false, ...messageContent(message) },
    );
  } catch (error) {
    log.warn('the answer could not be sent to response_url', { error });
  }
}
