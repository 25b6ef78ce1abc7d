/**
 * Halo's link to one event, the `url` its API gives each event: `https://www.halosecurity.com/link?q=user-event&id=ID`.
 * Pure: the link previews read the event ID from a pasted URL with it.
 */

/** The domain the app's manifest registers for previews (`features.unfurl_domains`); its subdomains come along. */
export const HALO_LINK_DOMAIN = 'halosecurity.com';

/** Longest event ID a link may carry: far beyond Halo's, short enough to keep a forged one cheap. */
const MAX_ID = 200;

/**
 * The event ID of a Halo event link, or null for anything else: another host, scheme, path or kind of link, or
 * an ID with control characters. Slack may send the URL as it appears in mrkdwn, with `&amp;` for `&`.
 */
export function haloEventIdOf(link: string): string | null {
  let url: URL;
  try {
    url = new URL(link.replaceAll('&amp;', '&'));
  } catch {
    return null;
  }
  const host = url.hostname.toLowerCase();
  if (url.protocol !== 'https:' || url.port !== '' || url.username !== '') return null;
  if (host !== HALO_LINK_DOMAIN && !host.endsWith(`.${HALO_LINK_DOMAIN}`)) return null;
  if (url.pathname !== '/link' || url.searchParams.get('q') !== 'user-event') return null;
  const id = url.searchParams.get('id');
  if (id === null || id === '' || id.length > MAX_ID || /\p{Cc}/u.test(id)) return null;
  return id;
}
