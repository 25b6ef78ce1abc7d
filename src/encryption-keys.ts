/**
 * HALO_ENCRYPTION_KEYS: the key ring that seals secrets at rest (store/secret-box.ts), newest first. Parsed by
 * config.ts; a key is never quoted back in a problem, only its position.
 */

/** A key: 32 random bytes, base64 (`openssl rand -base64 32`: 44 characters). */
const KEY_BYTES = 32;
const HOW = 'each must be 32 random bytes in base64, made with `openssl rand -base64 32`';

export function parseEncryptionKeys(raw: string | undefined): { keys: Uint8Array[]; problems: string[] } {
  if (raw === undefined) return { keys: [], problems: [] };
  const entries = raw.split(',').map((entry) => entry.trim());
  const keys: Uint8Array[] = [];
  const problems: string[] = [];
  entries.forEach((entry, i) => {
    const which = entries.length === 1 ? 'its key' : `key ${i + 1} of ${entries.length}`;
    if (entry === '') {
      problems.push(`HALO_ENCRYPTION_KEYS: ${which} is empty (a comma too many?); ${HOW}`);
      return;
    }
    const bytes = Buffer.from(entry, 'base64');
    // Node skips what is not base64: only a text that is exactly the encoding of its bytes is a key.
    if (bytes.toString('base64') !== entry || bytes.length !== KEY_BYTES) {
      problems.push(`HALO_ENCRYPTION_KEYS: ${which} is not a base64 key of ${KEY_BYTES} bytes; ${HOW}`);
      return;
    }
    keys.push(new Uint8Array(bytes));
  });
  return { keys, problems };
}
