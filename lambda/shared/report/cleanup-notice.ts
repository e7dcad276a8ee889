/**
 * A notice added to a report already written: the report is rendered when the evaluation is
 * scored, before the Provisioned Throughput is released, so a release Bedrock refused is told
 * by inserting a notice at the top of report.md and report.html (under the title), rather than
 * rendering them again (report.html embeds images read from the dataset). Pure; inserting the
 * same notice twice (a retried step) changes nothing.
 */
import { escapeHtml } from './html-escape';
import { escapeMarkdown } from './markdown-escape';

/** Heading of the notice in both renderings. */
export const UNDELETED_NOTICE_TITLE = 'Provisioned Throughput not deleted: it bills per hour.';

/** report.md with `notice` as a quoted block under its title line. */
export function withMarkdownNotice(markdown: string, notice: string): string {
  const block = `> **${UNDELETED_NOTICE_TITLE}** ${escapeMarkdown(notice)}`;
  if (markdown.includes(block)) return markdown;
  const end = markdown.indexOf('\n');
  if (end < 0) return `${markdown}\n\n${block}\n`;
  return `${markdown.slice(0, end + 1)}\n${block}\n${markdown.slice(end + 1)}`;
}

/** report.html with `notice` as an alert under its header (after the page's body start when it has no header). */
export function withHtmlNotice(html: string, notice: string): string {
  const block = `<div class="cleanup-notice" role="alert"><strong>${escapeHtml(UNDELETED_NOTICE_TITLE)}</strong> ${escapeHtml(notice)}</div>\n`;
  if (html.includes(block)) return html;
  for (const anchor of ['</header>\n', '<main>\n', '<body>\n']) {
    const at = html.indexOf(anchor);
    if (at >= 0) return `${html.slice(0, at + anchor.length)}${block}${html.slice(at + anchor.length)}`;
  }
  return `${block}${html}`;
}
