import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { EncryptionKeyMissingError } from '../../src/pipeline/tenancy-port.ts';
import { StoreError } from '../../src/pipeline/store-port.ts';
import { fingerprint, SecretBox } from '../../src/store/secret-box.ts';

const [OLD, NEW, OTHER] = [randomBytes(32), randomBytes(32), randomBytes(32)];
const SECRET = 'xoxb-1234-5678-abcdefghijklmnop';
const WHERE = 'installation T1 bot_token';

/** The message of what `fn` throws, and that it is of `type`. */
function failure(fn: () => unknown, type: new (...args: never[]) => Error): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(type);
    return (error as Error).message;
  }
  throw new Error('expected an error');
}

describe('SecretBox', () => {
  it('seals and opens a secret; the sealed text names its key, holds no plaintext and differs every time', () => {
    const box = new SecretBox([NEW]);
    const sealed = box.seal(SECRET, WHERE);
    expect(sealed).toMatch(new RegExp(`^v1:${fingerprint(NEW)}:[\\w+/=]+:[\\w+/=]+:[\\w+/=]+$`));
    expect(sealed).not.toContain(SECRET);
    expect(Buffer.from(sealed.split(':')[4]!, 'base64').toString('latin1')).not.toContain('xoxb');
    expect(box.seal(SECRET, WHERE)).not.toBe(sealed);
    expect(box.open(sealed, WHERE)).toBe(SECRET);
    expect(box.isCurrent(sealed)).toBe(true);
    expect(fingerprint(NEW)).toMatch(/^[0-9a-f]{8}$/);
  });

  it('refuses a sealed text that was changed, or moved to another row, saying so', () => {
    const box = new SecretBox([NEW]);
    const sealed = box.seal(SECRET, WHERE);
    const [v, id, iv, tag, body] = sealed.split(':') as [string, string, string, string, string];
    const bytes = Buffer.from(body, 'base64');
    bytes[0]! ^= 1;
    const tampered = [v, id, iv, tag, bytes.toString('base64')].join(':');
    expect(failure(() => box.open(tampered, WHERE), StoreError)).toBe(
      `A stored secret (${WHERE}) failed its integrity check under the key ${fingerprint(NEW)}: it was changed or copied from elsewhere. Connect again to save it anew.`,
    );
    expect(failure(() => box.open(sealed, 'installation T2 bot_token'), StoreError)).toMatch(/integrity/);
    expect(failure(() => box.open('not sealed at all', WHERE), StoreError)).toBe(
      `A stored secret (${WHERE}) is not in a form this version reads; it cannot be used.`,
    );
  });

  it('opens a text sealed under an older key after a rotation, and seals under the newest', () => {
    const sealed = new SecretBox([OLD]).seal(SECRET, WHERE);
    const rotated = new SecretBox([NEW, OLD]);
    expect(rotated.open(sealed, WHERE)).toBe(SECRET);
    expect(rotated.isCurrent(sealed)).toBe(false);
    const resealed = rotated.seal(rotated.open(sealed, WHERE), WHERE);
    expect(rotated.isCurrent(resealed)).toBe(true);
    expect(new SecretBox([NEW]).open(resealed, WHERE)).toBe(SECRET);
  });

  it('says which key is missing when the ring lacks the one a text was sealed under, never a key', () => {
    const sealed = new SecretBox([OLD]).seal(SECRET, WHERE);
    const message = failure(() => new SecretBox([NEW, OTHER]).open(sealed, WHERE), StoreError);
    expect(message).toBe(
      `A stored secret (${WHERE}) was encrypted with the key ${fingerprint(OLD)}, which is not in HALO_ENCRYPTION_KEYS (it holds ${fingerprint(NEW)}, ${fingerprint(OTHER)}). Add that key back (after the newest), or connect again to save the secret anew.`,
    );
    for (const key of [OLD, NEW, OTHER]) expect(message).not.toContain(key.toString('base64'));
    expect(failure(() => new SecretBox([]).open(sealed, WHERE), StoreError)).toBe(
      `A stored secret (${WHERE}) is encrypted, and HALO_ENCRYPTION_KEYS is not set. Set it to the keys the secrets were saved with.`,
    );
  });

  it('refuses to seal without a key, saying what to set', () => {
    const box = new SecretBox([]);
    expect(box.canSeal).toBe(false);
    expect(failure(() => box.seal(SECRET, WHERE), EncryptionKeyMissingError)).toBe(
      'Secrets are encrypted at rest, and no encryption key is set. Set HALO_ENCRYPTION_KEYS to a key made with `openssl rand -base64 32` and restart.',
    );
  });
});
