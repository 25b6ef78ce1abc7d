import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const blocksDir = join(root, 'src/slack/blocks');
const domainDir = join(root, 'src/domain');
/** Plain data types and pure domain logic (events, severity, digest summaries): no I/O, no Slack. */
const allowedOutside = (target: string): boolean => !relative(domainDir, target).startsWith('..');

const files = readdirSync(blocksDir)
  .filter((name) => name.endsWith('.ts'))
  .map((name) => ({ name, source: readFileSync(join(blocksDir, name), 'utf8') }));

const coreDirs = [join(root, 'src/pipeline'), join(root, 'src/commands')];

/** The specifiers of `import type { … } from '…'` statements: types only, erased at run time. */
function typeSpecifiers(source: string): string[] {
  return [...source.matchAll(/\bimport\s+type\b[^'"`;]*?\bfrom\s*['"]([^'"]+)['"]/g)].map((m) => m[1] ?? '');
}

/** Every module specifier: static imports and re-exports, side-effect imports, dynamic imports, require. */
function specifiers(source: string): string[] {
  const patterns = [
    /\b(?:import|export)\b[^'"`;]*?\bfrom\s*['"]([^'"]+)['"]/g,
    /\bimport\s*['"]([^'"]+)['"]/g,
    /\bimport\s*\(\s*['"`]([^'"`]+)['"`]\s*\)/g,
    /\brequire\s*\(\s*['"`]([^'"`]+)['"`]\s*\)/g,
  ];
  return patterns.flatMap((pattern) => [...source.matchAll(pattern)].map((match) => match[1] ?? ''));
}

describe('src/slack/blocks boundary', () => {
  it('has the files it is meant to have', () => {
    expect(files.map((f) => f.name)).toEqual(
      expect.arrayContaining([
        'alert.ts',
        'digest-message.ts',
        'escape.ts',
        'index.ts',
        'limits.ts',
        'payloads.ts',
        'types.ts',
      ]),
    );
  });

  it.each(files)('$name imports only its own folder and src/domain/, and the core’s types', ({ source }) => {
    const typesOnly = new Set(typeSpecifiers(source));
    for (const specifier of specifiers(source)) {
      const target = resolve(blocksDir, specifier);
      // The data a renderer draws (an Answer, an outbox row) is the core's; its types may come in, nothing else.
      if (typesOnly.has(specifier) && coreDirs.some((dir) => !relative(dir, target).startsWith('..')))
        continue;
      expect(specifier, 'no package, Slack SDK or Node built-in').toMatch(/^\.\.?\//);
      const inside = !relative(blocksDir, target).startsWith('..');
      expect(inside || allowedOutside(target), `${specifier} leaves the folder`).toBe(true);
    }
  });

  it.each(files)('$name is pure: no environment, clock, randomness, I/O or dynamic code', ({ source }) => {
    expect(source).not.toMatch(
      /\bprocess\.|\bDate\.now\b|new Date\(\s*\)|Math\.random|\bfetch\(|\bconsole\.|\beval\(/,
    );
  });

  it('is checked by this test for every kind of import', () => {
    const sample = [
      `import type { A } from '@slack/types';`,
      `export { b } from "./b.ts";`,
      `import './side-effect.ts';`,
      `const c = await import('node:fs');`,
      `import {\n  d,\n} from '../../app.ts';`,
    ].join('\n');
    expect(specifiers(sample)).toEqual(
      expect.arrayContaining(['@slack/types', './b.ts', './side-effect.ts', 'node:fs', '../../app.ts']),
    );
  });
});

describe('src/domain boundary', () => {
  const domain = readdirSync(domainDir)
    .filter((name) => name.endsWith('.ts'))
    .map((name) => ({ name, source: readFileSync(join(domainDir, name), 'utf8') }));

  it.each(domain)('$name imports only its own folder', ({ source }) => {
    for (const specifier of specifiers(source)) {
      expect(specifier, 'no package, Slack SDK or Node built-in').toMatch(/^\.\.?\//);
      const target = resolve(domainDir, specifier);
      expect(allowedOutside(target), `${specifier} leaves the folder`).toBe(true);
    }
  });

  it.each(domain)('$name is pure: no environment, clock, randomness, I/O or dynamic code', ({ source }) => {
    expect(source).not.toMatch(
      /\bprocess\.|\bDate\.now\b|new Date\(\s*\)|Math\.random|\bfetch\(|\bconsole\.|\beval\(/,
    );
  });
});

describe('src/ file names', () => {
  it('are unique: each file is named for what it holds, so a name alone says which file is meant', () => {
    const names = readdirSync(join(root, 'src'), { recursive: true, encoding: 'utf8' })
      .filter((path) => path.endsWith('.ts'))
      .map((path) => path.split('/').pop()!);
    expect(names.filter((name, i) => names.indexOf(name) !== i)).toEqual([]);
    expect(names.length).toBeGreaterThan(100);
  });
});
