import { highlightCode, knownLanguage } from './highlight';
import { COPY_CODE_ATTR, renderMarkdown } from './markdown';
import { sanitizeHtml } from './sanitize';

describe('renderMarkdown', () => {
  it('renders paragraphs, emphasis, lists, inline code and single line breaks', () => {
    const html = renderMarkdown('Hello **world**, use `npm test`.\nNext line\n\n- one\n- two');
    expect(html).toContain('<p>Hello <strong>world</strong>, use <code>npm test</code>.<br>Next line</p>');
    expect(html).toContain('<ul>\n<li>one</li>\n<li>two</li>\n</ul>');
  });

  it('highlights a fenced code block in its language, with a label and a copy button', () => {
    const html = renderMarkdown("Here:\n\n```python\ndef hello():\n    return 'hi'\n```\n");
    expect(html).toContain('<div class="md-code">');
    expect(html).toContain('<span class="md-code-lang">python</span>');
    expect(html).toContain(`${COPY_CODE_ATTR}=""`);
    expect(html).toContain('<code class="hljs language-python">');
    expect(html).toContain('<span class="hljs-keyword">def</span>');
    expect(html).toContain('<span class="hljs-string">&#x27;hi&#x27;</span>');
  });

  it('renders an unfinished fence (a streaming answer) as a code block up to the end', () => {
    const html = renderMarkdown('Start\n\n```js\nconst a = 1;\nconst b');
    expect(html).toContain('<code class="hljs language-javascript">');
    expect(html).toContain('<span class="hljs-keyword">const</span> a = <span class="hljs-number">1</span>;');
  });

  it('shows raw HTML as text, keeps only <br>', () => {
    const html = renderMarkdown('<script>alert(1)</script>\n\nA <b onclick="x()">bold</b> cell<br>next');
    expect(html).not.toContain('<script');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('&lt;b onclick=&quot;x()&quot;&gt;');
    expect(html).toContain('cell<br>next');
  });

  it('never loads an image: images become links; links open in a new tab; script links are dropped', () => {
    const html = renderMarkdown('![a cat](https://cdn.example/cat.png) [docs](https://example.com "Docs") [bad](javascript:alert(1))');
    expect(html).not.toContain('<img');
    expect(html).toContain('<a href="https://cdn.example/cat.png" target="_blank" rel="noopener noreferrer">[图片：a cat]</a>');
    expect(html).toContain('<a href="https://example.com" title="Docs" target="_blank" rel="noopener noreferrer">docs</a>');
    expect(html).not.toContain('javascript:');
    expect(html).toContain('bad');
  });

  it('wraps tables so that wide ones scroll, and renders task lists without inputs', () => {
    const html = renderMarkdown('| a | b |\n|---|---|\n| 1 | 2 |\n\n- [x] done\n- [ ] open');
    expect(html).toContain('<div class="md-table"><table>');
    expect(html).toContain('</table></div>');
    expect(html).not.toContain('<input');
    expect(html).toContain('☑ done');
    expect(html).toContain('☐ open');
  });
});

describe('highlightCode', () => {
  it('knows aliases and the registered languages only', () => {
    expect(knownLanguage('py')).toBe('python');
    expect(knownLanguage('TS')).toBe('typescript');
    expect(knownLanguage('sh')).toBe('bash');
    expect(knownLanguage('html')).toBe('xml');
    expect(knownLanguage('cobol')).toBeNull();
    expect(knownLanguage('')).toBeNull();
  });

  it('escapes code in an unknown language, and guesses a clear untagged one', () => {
    expect(highlightCode('<a> & "b"', 'cobol')).toEqual({ html: '&lt;a&gt; &amp; &quot;b&quot;', language: null });
    const guessed = highlightCode('def f(x):\n    return x * 2\n\nprint(f(3))');
    expect(guessed.language).toBe('python');
    expect(guessed.html).toContain('<span class="hljs-keyword">def</span>');
    expect(highlightCode('SELECT id, name FROM users WHERE age > 30 ORDER BY name;').language).toBe('sql');
    expect(highlightCode('just some words here').language).toBeNull();
  });
});

describe('sanitizeHtml', () => {
  it('without a DOM (DOMPurify cannot run) returns the input escaped, never raw', () => {
    expect(sanitizeHtml('<img src=x onerror="alert(1)">')).toBe('&lt;img src=x onerror=&quot;alert(1)&quot;&gt;');
  });
});
