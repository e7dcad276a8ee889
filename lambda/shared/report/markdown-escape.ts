/** Escaping of untrusted text (questions, answers, names) for Markdown. */
import { safeText } from '../display-text';

/**
 * Makes text safe as inline Markdown, inside a table cell too: backslash-escapes the
 * characters that start emphasis, code, links, HTML or table cells, and turns line breaks into
 * spaces (a line break would end the table row or the list item). Control characters, terminal
 * escapes and bidi overrides are shown escaped (report.md is often read in a terminal).
 */
export function escapeMarkdown(text: string): string {
  return safeText(text.replace(/\r\n|\r|\n/g, ' ')).replace(/[\\`*_[\]<>|~&#!]/g, (ch) => `\\${ch}`);
}
