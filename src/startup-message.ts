import { databasePassword } from './config.ts';
import { escapeControls } from './log.ts';
import { createRedactor } from './redact.ts';

/**
 * A start-up failure as `npm start` writes it to stderr, which bypasses the logger: redacted like a log line
 * (a database driver or a proxy may quote what it was given) and with control characters escaped line by line,
 * so that a message from a database server cannot repaint the terminal, while a list of problems keeps its lines.
 */
export function startupMessage(text: string, env: Readonly<Record<string, string | undefined>>): string {
  const redact = createRedactor([
    env.SLACK_BOT_TOKEN?.trim() ?? '',
    env.SLACK_SIGNING_SECRET?.trim() ?? '',
    env.SLACK_APP_TOKEN?.trim() ?? '',
    env.HALO_API_KEY?.trim() ?? '',
    databasePassword(env.DATABASE_URL?.trim() ?? ''),
  ]);
  return `${redact(text).split('\n').map(escapeControls).join('\n')}\n`;
}
