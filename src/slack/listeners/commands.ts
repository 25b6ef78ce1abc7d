import type { App } from '@slack/bolt';
import { parseCommand } from '../../commands/command-parse.ts';
import { DEFAULT_DISPLAY, type Display } from '../../domain/display.ts';
import { renderAnswer, renderNotice } from '../blocks/answer-message.ts';
import { NOT_ALLOWED, type CommandService } from '../../commands/service.ts';
import type { Logger } from '../../log.ts';
import { reply } from './reply.ts';
import { openSubscribeDialog, opensDialog, type DialogDeps } from './dialog-listeners.ts';

/**
 * `/halo`: acknowledged at once with an empty body (Slack's 3 s limit holds whatever Halo is doing); the answer
 * follows through `response_url`, privately.
 */
export function registerCommands(
  app: App,
  service: CommandService,
  log: Logger,
  onAcked: (seconds: number) => void = () => undefined,
  display: Display = DEFAULT_DISPLAY,
  /** `/halo subscribe` alone opens the subscribe dialog, for a user allowed to subscribe. */
  dialog?: DialogDeps,
): void {
  // Any name: Slack sends an app only the commands its manifest defines, and a workspace where /halo is taken
  // renames it (/halosec). Matching '/halo' alone left such a command unacknowledged: "dispatch_failed".
  app.command(/^\//, async ({ ack, command, respond, client }) => {
    const started = performance.now();
    await ack();
    onAcked((performance.now() - started) / 1000);
    if (dialog !== undefined && opensDialog(command.text)) {
      const allowed = await dialog.canManage(command.user_id);
      const opened =
        allowed &&
        (await openSubscribeDialog(dialog, client, command.trigger_id, {
          channel: command.channel_id,
          metadata: { editing: null },
          userId: command.user_id,
        }));
      log.info('command', {
        user: command.user_id,
        channel: command.channel_id,
        command: 'subscribe dialog',
      });
      await reply(
        respond,
        renderNotice(!allowed ? NOT_ALLOWED : opened ? DIALOG_OPENED : DIALOG_FAILED),
        log,
      );
      return;
    }
    const parsed = parseCommand(command.text);
    const message = parsed.ok
      ? await service.run(parsed.command, { userId: command.user_id, channelId: command.channel_id })
      : { kind: 'usage' as const, error: parsed.error, usage: parsed.usage };
    log.info('command', {
      user: command.user_id,
      channel: command.channel_id,
      command: parsed.ok ? parsed.command.kind : 'invalid',
    });
    await reply(respond, renderAnswer(message, display), log);
  });
}

const DIALOG_OPENED =
  'The subscribe dialog is open. To subscribe this channel to every event without it: `/halo subscribe severity:info`.';
const DIALOG_FAILED =
  'The subscribe dialog could not open; `/halo subscribe key:K target:ID severity:LEVEL` subscribes this channel directly.';
