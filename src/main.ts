/**
 * `npm start`: reads the configuration, starts the bot, and stops it cleanly on SIGTERM/SIGINT.
 * Start-up problems (settings, database, a rejected token) end in one clear message and exit code 1.
 *
 * `--no-env-file` (`npm start -- --no-env-file`) reads settings from the real environment only, never `.env`: the
 * tests start the bot that way so that it gets exactly the environment they mean, whatever the user's `.env` holds.
 */
import { startBot, type RunningBot } from './app.ts';
import { ConfigError, parseConfig } from './config.ts';
import { loadEnvFile } from './env-file.ts';
import { SlackAuthError } from './slack/web-client.ts';
import { startupMessage } from './startup-message.ts';
import { StoreError } from './pipeline/store-port.ts';

/** SIGTERM must end the process within 10 s even if something hangs. */
const HARD_STOP_MS = 9500;

const NO_ENV_FILE = '--no-env-file';

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const unknown = args.filter((arg) => arg !== NO_ENV_FILE);
  if (unknown.length > 0) {
    process.stderr.write(
      `halo-slack: unknown argument ${JSON.stringify(unknown[0])}; the only one is ${NO_ENV_FILE}\n`,
    );
    process.exitCode = 1;
    return;
  }
  let bot: RunningBot;
  // A real environment variable wins over .env.
  let env: Readonly<Record<string, string | undefined>> = process.env;
  try {
    let envFileProblems: readonly string[] = [];
    if (!args.includes(NO_ENV_FILE)) ({ env, problems: envFileProblems } = loadEnvFile('.env', process.env));
    bot = await startBot(parseConfig(env, envFileProblems));
  } catch (error) {
    if (error instanceof ConfigError || error instanceof StoreError || error instanceof SlackAuthError) {
      process.stderr.write(startupMessage(error.message, env));
    } else if (error instanceof Error && 'code' in error && error.code === 'EADDRINUSE') {
      // Node names the port it could not take: PORT's, or METRICS_PORT's when /metrics is served apart.
      const port = 'port' in error ? String(error.port) : String(env.PORT ?? 3000);
      const setting = port === String(env.PORT ?? 3000) ? 'PORT' : 'METRICS_PORT';
      process.stderr.write(
        startupMessage(`Port ${port} is already in use: stop the other program or set ${setting}.`, env),
      );
    } else {
      process.stderr.write(
        startupMessage(
          `halo-slack could not start: ${error instanceof Error ? error.message : String(error)}`,
          env,
        ),
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
  // An exception nothing caught may have left any state half-changed: running on would be guessing. Exit
  // non-zero so that the supervisor restarts the bot; the outbox makes that as safe as a kill -9.
  process.on('uncaughtException', (error) => {
    bot.log.error('uncaught exception: exiting so that the supervisor restarts the bot', { error });
    process.exit(1);
  });
}

void main();
