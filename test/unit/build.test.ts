// build.js decides when `npm start` (its prestart) compiles: when dist/ is missing or older than src/ (a fresh
// clone, an edit, a removed file), and not otherwise; a failed compile leaves nothing that passes for current.
// Checked on a small project compiled by the real tsc with this repository's own tsconfig files, so that its
// `.ts` imports come out as `.js`, as in dist/.
import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../harness.ts';

let project: string;

beforeAll(() => {
  project = mkdtempSync(join(tmpdir(), 'halo-slack-build-'));
  for (const file of ['build.js', 'tsconfig.json', 'tsconfig.build.json']) {
    copyFileSync(join(ROOT, file), join(project, file));
  }
  writeFileSync(join(project, 'package.json'), '{ "type": "module" }\n');
  symlinkSync(join(ROOT, 'node_modules'), join(project, 'node_modules'));
  mkdirSync(join(project, 'src'));
  writeFileSync(
    join(project, 'src', 'main.ts'),
    "import { word } from './word.ts';\nprocess.stdout.write(word);\n",
  );
  source('word.ts', "export const word: string = 'one';\n");
  source('old.ts', 'export const old = 1;\n');
});

afterAll(() => rmSync(project, { recursive: true, force: true }));

function source(name: string, text: string): void {
  writeFileSync(join(project, 'src', name), text);
}

function build(...args: string[]): { code: number | null; output: string } {
  const result = spawnSync(process.execPath, ['build.js', ...args], { cwd: project, encoding: 'utf8' });
  return { code: result.status, output: `${result.stdout}${result.stderr}` };
}

function runDist(): string {
  return spawnSync(process.execPath, ['dist/main.js'], { cwd: project, encoding: 'utf8' }).stdout;
}

// Each compile loads @types/node: a few seconds, several times that on a loaded 2-core machine.
describe('build.js --if-stale (npm start’s prestart)', { timeout: 120_000 }, () => {
  it('compiles a missing dist/, then leaves a current one alone, and compiles again after an edit', () => {
    const first = build('--if-stale');
    expect(first.code, first.output).toBe(0);
    expect(first.output).toMatch(/compiling src\/ to dist\//);
    expect(runDist()).toBe('one');

    expect(build('--if-stale')).toEqual({ code: 0, output: '' });

    source('word.ts', "export const word: string = 'two';\n");
    expect(build('--if-stale').output).toMatch(/compiling/);
    expect(runDist()).toBe('two');
  });

  it('compiles after a source is removed, and drops its output', () => {
    expect(build('--if-stale').code).toBe(0);
    expect(existsSync(join(project, 'dist', 'old.js'))).toBe(true);
    rmSync(join(project, 'src', 'old.ts'));
    expect(build('--if-stale').output).toMatch(/compiling/);
    expect(existsSync(join(project, 'dist', 'old.js'))).toBe(false);
  });

  it('fails on a type error, and a later start tries again rather than run what is left', () => {
    source('word.ts', "export const word: number = 'three';\n");
    const failed = build('--if-stale');
    expect(failed.code).toBe(1);
    expect(failed.output).toMatch(/tsc failed .*fix the errors above/);
    expect(existsSync(join(project, 'dist', 'main.js'))).toBe(false);
    source('word.ts', "export const word: string = 'four';\n");
    expect(build('--if-stale').code).toBe(0);
    expect(runDist()).toBe('four');
  });
});
