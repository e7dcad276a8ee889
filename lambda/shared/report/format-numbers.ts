/** Number formats shared by the report's renderers, so Markdown, HTML and notifications agree. */

/** A score (0..100) with two decimals: "73.20". */
export function formatScore(value: number): string {
  return value.toFixed(2);
}

/** A signed change in points: "+31.03", "-2.50", "0.00". */
export function formatPoints(value: number): string {
  const text = Math.abs(value).toFixed(2);
  if (text === '0.00') return '0.00';
  return (value > 0 ? '+' : '-') + text;
}

/** A signed relative change: "+73.6%", "-5.0%"; "n/a" for `null`. */
export function formatPercent(value: number | null): string {
  if (value === null) return 'n/a';
  const text = Math.abs(value).toFixed(1);
  if (text === '0.0') return '0.0%';
  return `${value > 0 ? '+' : '-'}${text}%`;
}

/** A whole number with thousands separators: "12,345". */
export function formatCount(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}

/** Milliseconds, rounded: "812 ms", "1,250 ms". */
export function formatMilliseconds(value: number): string {
  return `${formatCount(value)} ms`;
}

/** A loss value: four significant decimals for small values ("0.4123"), fewer for large. */
export function formatLoss(value: number): string {
  return Math.abs(value) >= 100 ? value.toFixed(1) : value.toFixed(4);
}

/** A duration in seconds as "2 h 05 min", "4 min 10 s" or "12 s". */
export function formatDuration(seconds: number): string {
  const total = Math.max(0, Math.round(seconds));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const secs = total % 60;
  if (hours > 0) return `${hours} h ${String(minutes).padStart(2, '0')} min`;
  if (minutes > 0) return `${minutes} min ${String(secs).padStart(2, '0')} s`;
  return `${secs} s`;
}

/** Shortens long text for display, keeping the start: "text…". */
export function truncateText(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;
  let cut = Math.max(0, maxChars - 1);
  // Do not split a surrogate pair (an emoji or a rare CJK character).
  const last = text.charCodeAt(cut - 1);
  if (last >= 0xd800 && last <= 0xdbff) cut--;
  return text.slice(0, cut).trimEnd() + '…';
}
