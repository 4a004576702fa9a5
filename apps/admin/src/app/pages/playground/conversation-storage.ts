import { readJson, writeJson } from '../../core/browser';
import type { AnswerTurn, Turn } from './playground-view';

/** Where 在线对话测试 keeps its conversation across reloads (清空对话 removes it). */
export const CONVERSATION_STORAGE_KEY = 'g4f.console.playground.conversation';
/** The newest turns kept (a question and its answer are two). */
export const MAX_STORED_TURNS = 100;
/** The stored conversation's size bound, in UTF-16 units of its JSON (localStorage holds ~5 M). */
export const MAX_STORED_CHARS = 1_000_000;
/** A generated image bigger than this (as a data: URL) is not stored; its answer is. */
export const MAX_STORED_IMAGE_CHARS = 256 * 1024;

/**
 * The turns as stored: the newest MAX_STORED_TURNS, starting at a question, without big images,
 * and as many of the oldest exchanges dropped as it takes to stay under MAX_STORED_CHARS.
 */
export function storableTurns(turns: Turn[]): Turn[] {
  let kept = turns
    .slice(-MAX_STORED_TURNS)
    .map((t) => (t.kind === 'answer' ? { ...t, images: t.images.filter((src) => src.length <= MAX_STORED_IMAGE_CHARS) } : t));
  while (kept.length && kept[0].kind !== 'user') kept = kept.slice(1);
  while (kept.length && JSON.stringify(kept).length > MAX_STORED_CHARS) {
    const next = kept.findIndex((t, i) => i > 0 && t.kind === 'user');
    kept = next > 0 ? kept.slice(next) : [];
  }
  return kept;
}

export function saveConversation(storage: Storage | null, turns: Turn[]): void {
  const kept = storableTurns(turns);
  writeJson(storage, CONVERSATION_STORAGE_KEY, kept.length ? kept : null);
}

const isTurn = (t: unknown): t is Turn => {
  const x = t as { [K in keyof AnswerTurn | 'text']?: unknown } | null;
  if (!x || typeof x !== 'object' || typeof x.id !== 'number') return false;
  if (x.kind === 'user') return typeof x.text === 'string';
  return x.kind === 'answer' && typeof x.content === 'string' && Array.isArray(x.images) && typeof x.model === 'string';
};

/**
 * The stored conversation, or [] when there is none or it is not one (an older format, a hand
 * edit). An answer that was still arriving when the page went away reads as stopped.
 */
export function loadConversation(storage: Storage | null): Turn[] {
  const stored = readJson<unknown>(storage, CONVERSATION_STORAGE_KEY);
  if (!Array.isArray(stored) || !stored.every(isTurn)) return [];
  return stored
    .slice(-MAX_STORED_TURNS)
    .map((t) => (t.kind === 'answer' && (t.status === 'pending' || t.status === 'streaming') ? { ...t, status: 'stopped' } : t));
}
