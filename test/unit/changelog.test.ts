/** What an installer checks first: a standard licence, named alike everywhere, and a version that moves. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../harness.ts';

const read = (file: string): string => readFileSync(join(ROOT, file), 'utf8');
const pkg = JSON.parse(read('package.json')) as { version: string; license: string };

describe('release metadata', () => {
  it("gives package.json the changelog's newest version", () => {
    const versions = [...read('CHANGELOG.md').matchAll(/^## \[(\d+\.\d+\.\d+)\]/gm)].map((match) => match[1]);
    expect(versions.length).toBeGreaterThan(1);
    expect(pkg.version).toBe(versions[0]);
    const lock = JSON.parse(read('package-lock.json')) as { version: string };
    expect(lock.version).toBe(pkg.version);
  });

  it('ships the MIT License, and says so in package.json and the README', () => {
    expect(read('LICENSE')).toMatch(/^MIT License\n/);
    expect(pkg.license).toBe('MIT');
    expect(read('README.md')).toContain('[MIT License](LICENSE)');
  });
});
