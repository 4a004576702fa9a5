/** DOMPurify for rendered Markdown: only the tags and attributes the renderer produces survive. */
import DOMPurify from 'dompurify';
import { escapeHtml } from './markdown';

const CONFIG = {
  ALLOWED_TAGS: [
    'a',
    'b',
    'blockquote',
    'br',
    'button',
    'code',
    'del',
    'div',
    'em',
    'h1',
    'h2',
    'h3',
    'h4',
    'h5',
    'h6',
    'hr',
    'i',
    'li',
    'ol',
    'p',
    'pre',
    's',
    'span',
    'strong',
    'sub',
    'sup',
    'table',
    'tbody',
    'td',
    'th',
    'thead',
    'tr',
    'ul',
  ],
  ALLOWED_ATTR: ['href', 'title', 'class', 'target', 'rel', 'align', 'start', 'type', 'aria-label', 'data-copy-code'],
  ALLOW_DATA_ATTR: false,
};

let hooked = false;

/**
 * Sanitized HTML. Without a DOM (unit tests, server) DOMPurify cannot run: the text is then
 * escaped whole, so nothing unsanitized is ever returned.
 */
export function sanitizeHtml(html: string): string {
  if (!DOMPurify.isSupported) return escapeHtml(html);
  if (!hooked) {
    hooked = true;
    // Every link leaves the console in a new tab without handing it a reference.
    DOMPurify.addHook('afterSanitizeAttributes', (node) => {
      if (node.tagName === 'A') {
        node.setAttribute('target', '_blank');
        node.setAttribute('rel', 'noopener noreferrer');
      }
    });
  }
  return DOMPurify.sanitize(html, CONFIG);
}
