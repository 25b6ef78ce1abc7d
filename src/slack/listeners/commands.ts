import type { App } from '@slack/bolt';
import { parseCommand } from '../../commands/command-parse.ts';
import { DEFAULT_DISPLAY, type Display } from '../../domain/display.ts';
import { renderAnswer } from '../blocks/answer-message.ts';
import type { CommandService } from '../../commands/service.ts';
import type { Logger } from '../../log.ts';
import { reply } from './reply.ts';

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
): void {
  // Any name: Slack sends an app only the commands its manifest defines, and a workspace where /halo is taken
  // renames it (/halosec). Matching '/halo' alone left such a command unacknowledged: "dispatch_failed".
  app.command(/^\//, async ({ ack, command, respond }) => {
    const started = performance.now();
    await ack();
    onAcked((performance.now() - started) / 1000);
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
