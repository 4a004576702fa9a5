import type { ModelAlias, ModelAliasList } from '#contracts';

/** One editable row of the 模型别名 table. */
export interface AliasRow {
  pattern: string;
  model: string;
}

/** The gateway's bounds (MAX_ALIASES, MAX_ALIAS_CHARS), checked here first so the admin sees them before saving. */
export const MAX_ALIAS_ROWS = 200;
export const MAX_ALIAS_CHARS = 128;

export function rowsOf(aliases: readonly ModelAlias[]): AliasRow[] {
  return aliases.map((a) => ({ pattern: a.pattern, model: a.model }));
}

/**
 * The rows as the map `PUT /api/aliases` takes, or what is wrong with them, in Chinese. Blank
 * rows are ignored; the gateway still checks the targets against the catalog.
 */
export function rowsToMap(rows: readonly AliasRow[]): { aliases: Record<string, string>; problems: string[] } {
  const aliases: Record<string, string> = {};
  const problems: string[] = [];
  const seen = new Set<string>();
  const filled = rows.map((r) => ({ pattern: r.pattern.trim(), model: r.model.trim() })).filter((r) => r.pattern || r.model);
  if (filled.length > MAX_ALIAS_ROWS) problems.push(`最多 ${MAX_ALIAS_ROWS} 条别名，现在有 ${filled.length} 条`);
  for (const { pattern, model } of filled) {
    if (!pattern) problems.push(`指向 ${model} 的别名没有填写匹配规则`);
    else if (/\s/.test(pattern) || pattern.length > MAX_ALIAS_CHARS)
      problems.push(`“${pattern.slice(0, 40)}”：匹配规则不能含空格，最长 ${MAX_ALIAS_CHARS} 个字符`);
    else if (!model) problems.push(`“${pattern}”：请选择目标模型`);
    else if (seen.has(pattern.toLowerCase())) problems.push(`“${pattern}” 重复了（不区分大小写）`);
    else {
      seen.add(pattern.toLowerCase());
      aliases[pattern] = model;
    }
  }
  return { aliases, problems };
}

/** Where the aliases in effect come from, in words. */
export function sourceLabel(list: Pick<ModelAliasList, 'source' | 'defaults'>): string {
  if (list.source === 'console') return '管理台保存的别名（取代 MODEL_ALIASES 中的默认别名）';
  return list.defaults.length ? '来自 MODEL_ALIASES / CATALOG_FILE 的默认别名' : '尚未设置别名';
}
