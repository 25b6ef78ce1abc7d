import type { Severity } from '../../domain/severity.ts';

/**
 * How each severity looks: a colour for the bar beside the alert, and an emoji and a word, so that a reader who
 * cannot tell the colours apart (or a phone notification, which has none) still sees the level.
 */
export const SEVERITY_STYLE: Readonly<Record<Severity, { color: string; emoji: string; word: string }>> = {
  critical: { color: '#8B0000', emoji: ':rotating_light:', word: 'Critical' },
  high: { color: '#E01E5A', emoji: ':red_circle:', word: 'High' },
  medium: { color: '#ECB22E', emoji: ':large_orange_diamond:', word: 'Medium' },
  low: { color: '#36C5F0', emoji: ':small_blue_diamond:', word: 'Low' },
  info: { color: '#9E9E9E', emoji: ':information_source:', word: 'Info' },
};

/** `:red_circle: High`: the level as a reader sees it, emoji first. */
export function severityLabel(severity: Severity): string {
  const style = SEVERITY_STYLE[severity];
  return `${style.emoji} ${style.word}`;
}
