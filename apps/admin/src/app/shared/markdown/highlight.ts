/**
 * highlight.js core with the languages chat answers use most (the full build is ~1 MB; this set
 * is a fraction of it and loads only with the pages that render Markdown).
 */
import hljs from 'highlight.js/lib/core';
import bash from 'highlight.js/lib/languages/bash';
import c from 'highlight.js/lib/languages/c';
import cpp from 'highlight.js/lib/languages/cpp';
import csharp from 'highlight.js/lib/languages/csharp';
import css from 'highlight.js/lib/languages/css';
import diff from 'highlight.js/lib/languages/diff';
import dockerfile from 'highlight.js/lib/languages/dockerfile';
import go from 'highlight.js/lib/languages/go';
import ini from 'highlight.js/lib/languages/ini';
import java from 'highlight.js/lib/languages/java';
import javascript from 'highlight.js/lib/languages/javascript';
import json from 'highlight.js/lib/languages/json';
import markdown from 'highlight.js/lib/languages/markdown';
import plaintext from 'highlight.js/lib/languages/plaintext';
import python from 'highlight.js/lib/languages/python';
import rust from 'highlight.js/lib/languages/rust';
import shell from 'highlight.js/lib/languages/shell';
import sql from 'highlight.js/lib/languages/sql';
import typescript from 'highlight.js/lib/languages/typescript';
import xml from 'highlight.js/lib/languages/xml';
import yaml from 'highlight.js/lib/languages/yaml';

const LANGUAGES = {
  bash,
  c,
  cpp,
  csharp,
  css,
  diff,
  dockerfile,
  go,
  ini,
  java,
  javascript,
  json,
  markdown,
  plaintext,
  python,
  rust,
  shell,
  sql,
  typescript,
  xml,
  yaml,
};
for (const [name, definition] of Object.entries(LANGUAGES)) hljs.registerLanguage(name, definition);

/** Untagged blocks are guessed among these only (guessing costs a pass per language). */
const GUESSABLE = ['bash', 'python', 'javascript', 'typescript', 'json', 'sql', 'xml', 'css', 'yaml', 'java', 'go', 'cpp'];
/** Below this relevance a guess is noise (prose, ASCII art): shown as plain text. */
const MIN_RELEVANCE = 4;
/** Longer untagged blocks are not guessed (re-rendered on every streamed chunk). */
const MAX_GUESS_CHARS = 6000;

export interface Highlighted {
  /** highlight.js token spans, HTML-escaped by highlight.js. */
  html: string;
  /** The language used (its canonical name), or null for plain text. */
  language: string | null;
}

const escapeHtml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');

/** The canonical name of a fence's language tag ("py" → "python"), or null when not registered. */
export function knownLanguage(tag: string | null | undefined): string | null {
  const name = tag?.trim().toLowerCase();
  if (!name) return null;
  const lang = hljs.getLanguage(name);
  if (!lang) return null;
  return Object.keys(LANGUAGES).find((k) => hljs.getLanguage(k) === lang) ?? name;
}

/** Highlights `code` in its tagged language, guesses a short untagged one, else escapes it. */
export function highlightCode(code: string, tag?: string | null): Highlighted {
  const language = knownLanguage(tag);
  if (language) return { html: hljs.highlight(code, { language, ignoreIllegals: true }).value, language: language === 'plaintext' ? null : language };
  if (!tag?.trim() && code.length <= MAX_GUESS_CHARS) {
    const guess = hljs.highlightAuto(code, GUESSABLE);
    if (guess.language && guess.relevance >= MIN_RELEVANCE) return { html: guess.value, language: guess.language };
  }
  return { html: escapeHtml(code), language: null };
}
