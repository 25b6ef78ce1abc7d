/**
 * Start-up checks that catch a mistake early without refusing anything: Halo may add event types its catalogue
 * does not list yet, so an unknown key in HALO_ALERT_KEYS is a warning with the closest known keys.
 */
import { unknownKeys, unknownKeyText } from '../domain/suggest.ts';
import type { HaloClient } from '../pipeline/halo-port.ts';
import type { Logger } from '../log.ts';

export async function warnUnknownAlertKeys(
  halo: Pick<HaloClient, 'listTypes'>,
  keys: readonly string[],
  log: Logger,
): Promise<void> {
  if (keys.length === 0) return;
  let known: string[];
  try {
    known = (await halo.listTypes()).map((type) => type.key);
  } catch (error) {
    log.debug('HALO_ALERT_KEYS could not be checked: Halo did not list its event types', { error });
    return;
  }
  for (const entry of unknownKeys(keys, known)) {
    log.warn(`HALO_ALERT_KEYS: ${unknownKeyText(entry)}; it is used as given, in case Halo adds it`, {
      key: entry.key,
    });
  }
}
