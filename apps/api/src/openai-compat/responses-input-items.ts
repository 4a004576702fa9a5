import { ApiError } from '../common/api-error.ts';
import { truncate } from '../events/record-bounds.ts';
import { functionCallItem, messageItem, type FunctionCallItem, type MessageItem, type OutputItem, type ReasoningItem } from './responses-output.ts';
import type { ResponsesRequestDto } from './responses-request.dto.ts';

/**
 * What `GET /v1/responses/{id}/input_items` lists: this request's `input` as OpenAI's item
 * resources (each with an id), kept with the stored response. Built after the input was
 * translated, so every item here has already been checked.
 */

type InputPart = { type: 'input_text'; text: string } | { type: 'input_image'; image_url: string; detail: string };

export interface InputMessageResource {
  type: 'message';
  id: string;
  role: 'user' | 'system' | 'developer';
  status: 'completed';
  content: InputPart[];
}

export interface FunctionCallOutputResource {
  type: 'function_call_output';
  id: string;
  call_id: string;
  output: string | unknown[];
  status: 'completed';
}

export type InputItemResource = InputMessageResource | MessageItem | FunctionCallItem | FunctionCallOutputResource | ReasoningItem;

/** OpenAI's ResponseItemList. */
export interface InputItemList {
  object: 'list';
  data: InputItemResource[];
  first_id: string;
  last_id: string;
  has_more: boolean;
}

type Item = Record<string, unknown>;

const text = (v: unknown): string => (typeof v === 'string' ? v : '');

function inputPart(part: Item): InputPart {
  if (part.type === 'input_image')
    return { type: 'input_image', image_url: text(part.image_url), detail: typeof part.detail === 'string' ? part.detail : 'auto' };
  return { type: 'input_text', text: text(part.text) };
}

function partsText(content: unknown): string {
  if (typeof content === 'string') return content;
  return Array.isArray(content) ? content.map((p) => text((p as Item).type === 'refusal' ? (p as Item).refusal : (p as Item).text)).join('') : '';
}

/** One input item as its resource; undefined for what the list does not show (nothing, today). */
function resourceOf(item: Item, id: string, references: ReadonlyMap<string, OutputItem>): InputItemResource | undefined {
  const type = item.type ?? (item.role !== undefined ? 'message' : undefined);
  switch (type) {
    case 'message': {
      if (item.role === 'assistant') return messageItem(id, partsText(item.content), 'completed');
      const content = typeof item.content === 'string' ? [{ type: 'input_text' as const, text: item.content }] : (item.content as Item[]).map(inputPart);
      return { type: 'message', id, role: item.role as InputMessageResource['role'], status: 'completed', content };
    }
    case 'function_call':
      return functionCallItem(
        id,
        { id: '', type: 'function', function: { name: text(item.name), arguments: text(item.arguments) } },
        text(item.call_id),
        'completed',
      );
    case 'function_call_output':
      return { type: 'function_call_output', id, call_id: text(item.call_id), output: item.output as string | unknown[], status: 'completed' };
    case 'reasoning':
      return { type: 'reasoning', id, summary: [], content: [], status: 'completed' };
    case 'item_reference':
      return references.get(text(item.id));
    default:
      return undefined;
  }
}

const PREFIXES: Record<string, string> = { function_call: 'fc', function_call_output: 'fco', reasoning: 'rs' };

/**
 * This request's input items with ids: a client's own id is kept, others get `<prefix>_<token>_in<n>`
 * (not of the `msg_<token>_<n>` form, so an `item_reference` never names an input item).
 */
export function inputItemResources(
  input: ResponsesRequestDto['input'],
  token: string,
  references: ReadonlyMap<string, OutputItem> = new Map(),
): InputItemResource[] {
  if (input === undefined) return [];
  const items: Item[] = typeof input === 'string' ? [{ type: 'message', role: 'user', content: input }] : input;
  return items.flatMap((item, i) => {
    const type = String(item.type ?? 'message');
    const id = typeof item.id === 'string' && type !== 'item_reference' ? item.id : `${PREFIXES[type] ?? 'msg'}_${token}_in${i}`;
    const resource = resourceOf(item, id, references);
    return resource ? [resource] : [];
  });
}

/** The query as Express parses it: a repeated parameter arrives as an array. */
export interface InputItemsQuery {
  limit?: unknown;
  order?: unknown;
  after?: unknown;
}

const bad = (message: string, param: string) => ApiError.badRequest(message, param, 'invalid_value');

/** A page of the list as OpenAI pages it: newest first unless `order=asc`, `after` an item id, 1 ≤ limit ≤ 100 (20). */
export function inputItemPage(items: readonly InputItemResource[], query: InputItemsQuery): InputItemList {
  const limit = query.limit === undefined ? 20 : typeof query.limit === 'string' && query.limit.trim() !== '' ? Number(query.limit) : Number.NaN;
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw bad('limit must be an integer from 1 to 100.', 'limit');
  const order = query.order ?? 'desc';
  if (order !== 'asc' && order !== 'desc') throw bad("order must be 'asc' or 'desc'.", 'order');
  const ordered = order === 'asc' ? [...items] : [...items].reverse();
  let start = 0;
  if (query.after !== undefined) {
    if (typeof query.after !== 'string') throw bad('after must be one item id.', 'after');
    const at = ordered.findIndex((item) => item.id === query.after);
    if (at < 0) throw bad(`No input item with id '${truncate(query.after, 200)}' in this response.`, 'after');
    start = at + 1;
  }
  const data = ordered.slice(start, start + limit);
  return { object: 'list', data, first_id: data[0]?.id ?? '', last_id: data.at(-1)?.id ?? '', has_more: start + limit < ordered.length };
}
