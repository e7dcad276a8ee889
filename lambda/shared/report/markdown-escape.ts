/** Escaping of untrusted text (questions, answers, names) for Markdown. */

/**
 * Makes text safe as inline Markdown, inside a table cell too: backslash-escapes the
 * characters that start emphasis, code, links, HTML or table cells, and turns line breaks into
 * spaces (a line break would end the table row or the list item).
 */
export function escapeMarkdown(text: string): string {
  return text.replace(/\r\n|\r|\n/g, ' ').replace(/[\\`*_[\]<>|~&#!]/g, (ch) => `\\${ch}`);
}
