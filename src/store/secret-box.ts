/**
 * Secrets at rest (bot tokens, Halo API keys): AES-256-GCM under a key ring from HALO_ENCRYPTION_KEYS. The first
 * key seals; any key of the ring opens, so a key is rotated by putting a new one first, re-sealing every secret
 * (`npm run rotate-keys`), then dropping the old one. A sealed text names its key by a fingerprint (never the key
 * itself), so that a text sealed under a key no longer in the ring is refused with a message saying so, not
 * misread. The authentication tag makes any change of the text (or of the row it belongs to: see `context`) an
 * error rather than a wrong secret.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { EncryptionKeyMissingError } from '../pipeline/tenancy-port.ts';
import { StoreError } from '../pipeline/store-port.ts';

/** The format's version: what a later format would change, so that texts of both can be told apart. */
const VERSION = 'v1';
const IV_BYTES = 12;
const KEY_BYTES = 32;

/** A key's name in a sealed text: the first 8 hex digits of its SHA-256. */
export function fingerprint(key: Uint8Array): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 8);
}

export class SecretBox {
  private readonly ring: ReadonlyMap<string, Uint8Array>;
  private readonly current: { readonly id: string; readonly key: Uint8Array } | null;

  /** `keys`: newest first, each 32 bytes (config.ts checks them; a wrong length here is a programming error). */
  constructor(keys: readonly Uint8Array[]) {
    for (const key of keys)
      if (key.length !== KEY_BYTES) throw new Error(`an encryption key has ${key.length} bytes, not 32`);
    this.ring = new Map(keys.map((key) => [fingerprint(key), key]));
    this.current = keys[0] === undefined ? null : { id: fingerprint(keys[0]), key: keys[0] };
  }

  /** Whether a secret can be sealed (HALO_ENCRYPTION_KEYS is set). */
  get canSeal(): boolean {
    return this.current !== null;
  }

  /**
   * `v1:<key fingerprint>:<iv>:<tag>:<ciphertext>` (base64). `context` names where the text is stored (table,
   * workspace, row): it is authenticated, so a sealed text copied into another row does not open there.
   */
  seal(plain: string, context: string): string {
    const current = this.current;
    if (current === null) throw new EncryptionKeyMissingError();
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', current.key, iv);
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    const parts = [iv, cipher.getAuthTag(), body].map((part) => part.toString('base64'));
    return [VERSION, current.id, ...parts].join(':');
  }

  open(sealed: string, context: string): string {
    const [version, id, iv, tag, body, ...rest] = sealed.split(':');
    if (version !== VERSION || id === undefined || body === undefined || rest.length > 0)
      throw new StoreError(
        `A stored secret (${context}) is not in a form this version reads; it cannot be used.`,
      );
    const key = this.ring.get(id);
    if (key === undefined)
      throw new StoreError(
        this.current === null
          ? `A stored secret (${context}) is encrypted, and HALO_ENCRYPTION_KEYS is not set. Set it to the keys the secrets were saved with.`
          : `A stored secret (${context}) was encrypted with the key ${id}, which is not in HALO_ENCRYPTION_KEYS (it holds ${[...this.ring.keys()].join(', ')}). Add that key back (after the newest), or connect again to save the secret anew.`,
      );
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv!, 'base64'));
      decipher.setAAD(Buffer.from(context, 'utf8'));
      decipher.setAuthTag(Buffer.from(tag!, 'base64'));
      return Buffer.concat([decipher.update(Buffer.from(body, 'base64')), decipher.final()]).toString('utf8');
    } catch {
      throw new StoreError(
        `A stored secret (${context}) failed its integrity check under the key ${id}: it was changed or copied from elsewhere. Connect again to save it anew.`,
      );
    }
  }

  /** Whether a sealed text is sealed under the newest key already (nothing for a rotation to do). */
  isCurrent(sealed: string): boolean {
    return this.current !== null && sealed.startsWith(`${VERSION}:${this.current.id}:`);
  }
}
