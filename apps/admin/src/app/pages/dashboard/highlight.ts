/** highlight.js with just the three languages the snippets use (the full build is ~1 MB). */
import hljs from 'highlight.js/lib/core';
import bash from 'highlight.js/lib/languages/bash';
import javascript from 'highlight.js/lib/languages/javascript';
import python from 'highlight.js/lib/languages/python';

hljs.registerLanguage('bash', bash);
hljs.registerLanguage('javascript', javascript);
hljs.registerLanguage('python', python);

/** HTML of `code` with highlight.js token spans (escaped by highlight.js). */
export function highlight(code: string, language: 'bash' | 'javascript' | 'python'): string {
  return hljs.highlight(code, { language, ignoreIllegals: true }).value;
}
