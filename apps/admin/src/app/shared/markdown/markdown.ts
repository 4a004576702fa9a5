/**
 * Markdown → HTML for chat answers: marked (GFM, single newlines kept as line breaks), code
 * blocks highlighted by highlight.js with a copy button, raw HTML shown as text, images shown as
 * links (nothing is ever loaded from another host), links opening in a new tab. The result still
 * goes through sanitizeHtml (DOMPurify) before it reaches the page.
 */
import { Marked, type Tokens } from 'marked';
import { highlightCode } from './highlight';

export const escapeHtml = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');

/** Attribute on a code block's copy button; the Markdown view copies the block's text on click. */
export const COPY_CODE_ATTR = 'data-copy-code';

const LINE_BREAK = /^<br\s*\/?>$/i;

const marked = new Marked({
  gfm: true,
  breaks: true,
  renderer: {
    code({ text, lang }: Tokens.Code): string {
      const tag = (lang ?? '').trim().split(/\s+/)[0] ?? '';
      const { html, language } = highlightCode(text.replace(/\n$/, ''), tag);
      const label = tag || language || '代码';
      const cls = language ? `hljs language-${escapeHtml(language)}` : 'hljs';
      return (
        `<div class="md-code"><div class="md-code-head"><span class="md-code-lang">${escapeHtml(label)}</span>` +
        `<button type="button" class="md-copy" ${COPY_CODE_ATTR}="" title="复制代码" aria-label="复制代码">复制</button></div>` +
        `<pre><code class="${cls}">${html}</code></pre></div>\n`
      );
    },
    // Raw HTML in an answer is text to show, not markup to run; only line breaks (common in table cells) stay.
    html({ text }: Tokens.HTML | Tokens.Tag): string {
      return LINE_BREAK.test(text.trim()) ? '<br>' : escapeHtml(text);
    },
    image({ href, text }: Tokens.Image): string {
      const label = `[图片：${text || href}]`;
      return /^https?:\/\//i.test(href)
        ? `<a href="${escapeHtml(href)}" target="_blank" rel="noopener noreferrer">${escapeHtml(label)}</a>`
        : escapeHtml(label);
    },
    link(this: { parser: { parseInline(tokens: Tokens.Generic[]): string } }, { href, title, tokens }: Tokens.Link): string {
      const inner = this.parser.parseInline(tokens);
      if (!/^(https?:|mailto:)/i.test(href)) return inner;
      const t = title ? ` title="${escapeHtml(title)}"` : '';
      return `<a href="${escapeHtml(href)}"${t} target="_blank" rel="noopener noreferrer">${inner}</a>`;
    },
    checkbox({ checked }: Tokens.Checkbox): string {
      return checked ? '☑ ' : '☐ ';
    },
  },
  hooks: {
    // Wide tables scroll inside the answer instead of widening the page.
    postprocess: (html: string) => html.replace(/<table>/g, '<div class="md-table"><table>').replace(/<\/table>/g, '</table></div>'),
  },
});

/**
 * The HTML of `text` (unsanitized: pass it through sanitizeHtml). An unfinished answer renders
 * as far as it goes: an unclosed code fence is a code block up to the end.
 */
export function renderMarkdown(text: string): string {
  return marked.parse(text, { async: false });
}
