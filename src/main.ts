/**
 * `npm start`: reads the configuration, starts the bot, and stops it cleanly on SIGTERM/SIGINT.
 * Start-up problems (settings, database, a rejected token) end in one clear message and exit code 1.
 */
import dotenv from 'dotenv';
import { startBot, type RunningBot } from './app.ts';
import { ConfigError, parseConfig } from './config.ts';
import { SlackAuthError } from './slack/client.ts';
import { StoreError } from './store/store.ts';

/** SIGTERM must end the process within 10 s even if something hangs. */
const HARD_STOP_MS = 9500;

async function main(): Promise<void> {
  // A real environment variable wins over .env (dotenv never overrides by default).
  dotenv.config({ quiet: true });
  let bot: RunningBot;
  try {
    bot = await startBot(parseConfig(process.env));
  } catch (error) {
    if (error instanceof ConfigError || error instanceof StoreError || error instanceof SlackAuthError) {
      process.stderr.write(`${error.message}\n`);
    } else if (error instanceof Error && 'code' in error && error.code === 'EADDRINUSE') {
      process.stderr.write(
        `Port ${String(process.env.PORT ?? 3000)} is already in use: stop the other program or set PORT.\n`,
      );
    } else {
      process.stderr.write(
        `halo-slack could not start: ${error instanceof Error ? error.message : String(error)}\n`,
      );
    }
    process.exitCode = 1;
    return;
  }

  const shutdown = (signal: string): void => {
    bot.log.info('signal received', { signal });
    setTimeout(() => process.exit(0), HARD_STOP_MS).unref();
    bot.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
  // The outbox makes a crash safe, but an alerting bot should not die of one stray rejection.
  process.on('unhandledRejection', (reason) => bot.log.error('unhandled rejection', { error: reason }));
  process.on('uncaughtException', (error) => bot.log.error('uncaught exception', { error }));
}

void main();
