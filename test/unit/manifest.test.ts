import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { USAGE } from '../../src/commands/usage.ts';
import { WORKFLOW_STEPS } from '../../src/commands/workflow.ts';
import { HALO_LINK_DOMAIN } from '../../src/domain/halo-link.ts';
import { BOT_SCOPES, REDIRECT_PATH } from '../../src/slack/oauth.ts';

// Paths come from this file, not the working directory, so the test runs from anywhere.
const manifestUrl = new URL('../../manifest.yml', import.meta.url);
// Slack's schema, copied unchanged from slackapi/manifest-schema (see test/fixtures/README.md).
const schemaUrl = new URL('../fixtures/manifest.schema.json', import.meta.url);
// Version 2 of the same schema, for manifest.workflows.yml: it describes functions as custom steps declare them.
const schemaV2Url = new URL('../fixtures/manifest.schema.2.0.0.json', import.meta.url);

interface SlashCommand {
  command: string;
  url?: string;
  usage_hint?: string;
}

/** The parts of the manifest this test checks; the schema vouches for the shape first. */
interface Manifest {
  _metadata?: { major_version?: number };
  display_information: { name: string; background_color?: string };
  features?: { slash_commands?: SlashCommand[] };
  oauth_config?: { scopes?: { bot?: string[]; user?: string[] } };
  settings?: {
    interactivity?: { is_enabled: boolean; request_url?: string; message_menu_options_url?: string };
  };
}

function loadManifest(): unknown {
  return parse(readFileSync(manifestUrl, 'utf8'));
}

function compileSchema(url: URL = schemaUrl): {
  validate: ValidateFunction;
  schema: Record<string, unknown>;
} {
  const schema = JSON.parse(readFileSync(url, 'utf8')) as Record<string, unknown>;
  const ajv = new Ajv({
    // The schema is draft-07 (ajv's default) but carries Slack's own annotations: `regex`, `_note`, `requires`.
    strict: false,
    // Only `$schema` has a format (uri); ajv-formats is not a dependency and is not needed for that.
    validateFormats: false,
    allErrors: true,
  });
  return { validate: ajv.compile(schema), schema };
}

function describeErrors(errors: ErrorObject[] | null | undefined): string {
  return (errors ?? [])
    .map((e) => `${e.instancePath || '/'} ${e.message ?? e.keyword} ${JSON.stringify(e.params)}`)
    .join('\n');
}

function slashCommandsOf(manifest: Manifest): SlashCommand[] {
  return manifest.features?.slash_commands ?? [];
}

describe('manifest.yml', () => {
  const { validate, schema } = compileSchema();
  const raw = loadManifest();

  it('targets version 1 of the manifest schema, the version the copied schema describes', () => {
    expect(schema['$schema']).toBe('http://json-schema.org/draft-07/schema#');
    expect((raw as Manifest)._metadata?.major_version).toBe(1);
  });

  it("is valid against Slack's published manifest schema", () => {
    const valid = validate(raw);
    // Printed in the assertion message so a failure says which field is wrong.
    expect(valid, describeErrors(validate.errors)).toBe(true);
  });

  const manifest = raw as Manifest;

  it('has a /halo command whose request URL is the Bolt endpoint', () => {
    const halo = slashCommandsOf(manifest).filter((c) => c.command === '/halo');
    expect(halo).toHaveLength(1);
    expect(halo[0]?.url).toMatch(/^https:\/\/[^/]+\/slack\/events$/);
    expect(slashCommandsOf(manifest).map((c) => c.command)).toEqual(['/halo']);
  });

  it('names every subcommand in the usage hint Slack shows as one types /halo', () => {
    const hint = slashCommandsOf(manifest)[0]?.usage_hint ?? '';
    const named = hint.split('|').map((part) => part.trim().split(' ')[0]);
    expect(named).toEqual(Object.keys(USAGE));
  });

  it('turns interactivity on, pointing at the Bolt endpoint', () => {
    const interactivity = manifest.settings?.interactivity;
    expect(interactivity?.is_enabled).toBe(true);
    expect(interactivity?.request_url).toMatch(/^https:\/\/[^/]+\/slack\/events$/);
    // The subscribe dialog's Targets field (an external select) asks for its options here.
    expect(interactivity?.message_menu_options_url).toBe(interactivity?.request_url);
  });

  it('previews Halo event links: their domain, the link_shared event and the links scopes', () => {
    const features = manifest.features as { unfurl_domains?: string[] } | undefined;
    expect(features?.unfurl_domains).toEqual([HALO_LINK_DOMAIN]);
    expect(manifest.oauth_config?.scopes?.bot).toEqual(expect.arrayContaining(['links:read', 'links:write']));
  });

  it('has a Home tab and subscribes to app_home_opened, link_shared and the uninstall events at the Bolt endpoint', () => {
    const settings = manifest.settings as
      { event_subscriptions?: { request_url?: string; bot_events?: string[] } } | undefined;
    const features = manifest.features as { app_home?: { home_tab_enabled?: boolean } } | undefined;
    expect(features?.app_home?.home_tab_enabled).toBe(true);
    expect(settings?.event_subscriptions?.bot_events).toEqual([
      'app_home_opened',
      'link_shared',
      'app_uninstalled',
      'tokens_revoked',
    ]);
    expect(settings?.event_subscriptions?.request_url).toMatch(/^https:\/\/[^/]+\/slack\/events$/);
  });

  it('sends a distributed app’s installers back to the OAuth redirect path, asking for the scopes below', () => {
    const oauth = manifest.oauth_config as { redirect_urls?: string[] } | undefined;
    expect(oauth?.redirect_urls).toEqual([`https://YOUR-HOST${REDIRECT_PATH}`]);
    expect(manifest.oauth_config?.scopes?.bot).toEqual([...BOT_SCOPES]);
  });

  it('asks for exactly the bot scopes the bot uses, and no user scopes', () => {
    expect(manifest.oauth_config?.scopes?.bot).toEqual([
      'chat:write',
      'commands',
      'users:read',
      'channels:history',
      'groups:history',
      'links:read',
      'links:write',
    ]);
    expect(manifest.oauth_config?.scopes?.user).toBeUndefined();
  });

  it('has a background colour matching the pattern the schema states but ajv ignores', () => {
    // The schema writes this pattern under the non-standard `regex` keyword, which no validator enforces.
    expect(manifest.display_information.background_color).toMatch(/^#[0-9a-fA-F]{3}([0-9a-fA-F]{3})?$/);
  });

  describe('the validator', () => {
    // Proves the schema check has teeth, so the validity test above cannot pass vacuously.
    function copy(): Manifest {
      return structuredClone(raw) as Manifest;
    }

    it('rejects a manifest without display_information.name', () => {
      const broken = copy() as { display_information: Partial<Manifest['display_information']> };
      delete broken.display_information.name;
      expect(validate(broken)).toBe(false);
      expect(validate.errors).toContainEqual(
        expect.objectContaining({
          instancePath: '/display_information',
          keyword: 'required',
          params: { missingProperty: 'name' },
        }),
      );
    });

    it('rejects a bot scope that is not a string', () => {
      const broken = copy() as { oauth_config: { scopes: { bot: unknown[] } } };
      broken.oauth_config.scopes.bot.push(42);
      expect(validate(broken)).toBe(false);
      expect(validate.errors).toContainEqual(
        expect.objectContaining({ instancePath: '/oauth_config/scopes/bot/7', keyword: 'type' }),
      );
    });

    it('rejects a setting Slack does not know', () => {
      const broken = copy() as { settings: Record<string, unknown> };
      broken.settings['socket_mode'] = true;
      expect(validate(broken)).toBe(false);
      expect(validate.errors).toContainEqual(
        expect.objectContaining({ instancePath: '/settings', keyword: 'additionalProperties' }),
      );
    });
  });
});

describe('manifest.socket.yml', () => {
  const { validate } = compileSchema();
  const socket = parse(
    readFileSync(new URL('../../manifest.socket.yml', import.meta.url), 'utf8'),
  ) as unknown;
  const http = loadManifest();

  /** Drops every request URL and the mode switch: what remains must be the same app in both files. */
  function withoutUrls(manifest: unknown): unknown {
    return JSON.parse(
      JSON.stringify(manifest, (key, value: unknown) =>
        ['url', 'request_url', 'message_menu_options_url', 'socket_mode_enabled', 'redirect_urls'].includes(
          key,
        )
          ? undefined
          : value,
      ),
    );
  }

  it("is valid against Slack's published manifest schema", () => {
    const valid = validate(socket);
    expect(valid, describeErrors(validate.errors)).toBe(true);
  });

  it('turns Socket Mode on and names no request URL anywhere', () => {
    expect((socket as { settings: Record<string, unknown> }).settings.socket_mode_enabled).toBe(true);
    expect((http as { settings: Record<string, unknown> }).settings.socket_mode_enabled).toBe(false);
    expect(JSON.stringify(socket)).not.toMatch(/https?:|"url"|request_url/);
    expect((socket as Manifest).settings?.interactivity?.is_enabled).toBe(true);
  });

  it('is otherwise the same app as manifest.yml: commands, scopes, events, names', () => {
    expect(withoutUrls(socket)).toEqual(withoutUrls(http));
  });
});

describe('manifest.workflows.yml', () => {
  const { validate } = compileSchema(schemaV2Url);
  const workflows = parse(readFileSync(new URL('../../manifest.workflows.yml', import.meta.url), 'utf8')) as {
    _metadata: { major_version: number };
    settings: Record<string, unknown> & { event_subscriptions: { bot_events: string[] } };
    functions: Record<
      string,
      { input_parameters: { properties: Record<string, { type: string }>; required: string[] } }
    >;
  };

  it("is valid against version 2 of Slack's published manifest schema", () => {
    expect(workflows._metadata.major_version).toBe(2);
    const valid = validate(workflows);
    expect(valid, describeErrors(validate.errors)).toBe(true);
  });

  it('declares the three steps, run by the app itself in an org-ready app that hears function_executed', () => {
    expect(Object.keys(workflows.functions)).toEqual(Object.values(WORKFLOW_STEPS));
    expect(workflows.settings.function_runtime).toBe('remote');
    expect(workflows.settings.org_deploy_enabled).toBe(true);
    expect(workflows.settings.event_subscriptions.bot_events).toContain('function_executed');
  });

  it('asks the Delete step for who ran the workflow, as Slack names them (interactivity)', () => {
    const inputs = workflows.functions[WORKFLOW_STEPS.delete]!.input_parameters;
    expect(inputs.properties.user?.type).toBe('slack#/types/interactivity');
    expect(inputs.required).toEqual(['event_id', 'user']);
  });

  it('is otherwise manifest.yml: the same commands, scopes, events, link previews and names', () => {
    const steps = ['_metadata', 'functions', 'org_deploy_enabled', 'function_runtime'];
    const withoutSteps = (manifest: unknown): unknown =>
      JSON.parse(
        JSON.stringify(manifest, (key, value: unknown) =>
          steps.includes(key)
            ? undefined
            : Array.isArray(value)
              ? value.filter((item) => item !== 'function_executed')
              : value,
        ),
      );
    expect(withoutSteps(workflows)).toEqual(withoutSteps(loadManifest()));
  });

  describe('the version 2 validator', () => {
    it('rejects a step without a title', () => {
      const broken = structuredClone(workflows) as unknown as {
        functions: Record<string, Record<string, unknown>>;
      };
      delete broken.functions[WORKFLOW_STEPS.get]!.title;
      expect(validate(broken)).toBe(false);
    });
  });
});
