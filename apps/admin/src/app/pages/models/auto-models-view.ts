import type { AutoModel, AutoModelKind, AutoModelList } from '#contracts';

/** One editable row of the 虚拟模型 table: the preference list as text, ids separated by commas or spaces. */
export interface AutoModelRow {
  id: string;
  kind: AutoModelKind;
  models: string;
  others: boolean;
  vision: boolean;
  description: string;
}

/** The gateway's bounds (MAX_AUTO_MODELS, MAX_AUTO_PREFERENCES, MAX_AUTO_ID_CHARS), checked here first. */
export const MAX_AUTO_ROWS = 20;
export const MAX_AUTO_PREFERENCES = 50;
export const MAX_AUTO_ID_CHARS = 64;

export const KIND_LABELS: Readonly<Record<AutoModelKind, string>> = { chat: '对话', image: '图片生成' };

export function autoRowsOf(models: readonly AutoModel[]): AutoModelRow[] {
  return models.map((m) => ({ id: m.id, kind: m.kind, models: m.models.join(', '), others: m.others, vision: m.vision, description: m.description ?? '' }));
}

const splitIds = (text: string): string[] => text.split(/[\s,，]+/).filter(Boolean);

/**
 * The rows as the list `PUT /api/auto-models` takes, or what is wrong with them, in Chinese.
 * Blank rows are ignored; the gateway still checks the models against the catalog.
 */
export function autoRowsToModels(rows: readonly AutoModelRow[]): { models: AutoModel[]; problems: string[] } {
  const models: AutoModel[] = [];
  const problems: string[] = [];
  const seen = new Set<string>();
  const filled = rows.filter((r) => r.id.trim() || r.models.trim());
  if (filled.length > MAX_AUTO_ROWS) problems.push(`最多 ${MAX_AUTO_ROWS} 个虚拟模型，现在有 ${filled.length} 个`);
  for (const row of filled) {
    const id = row.id.trim();
    const ids = splitIds(row.models);
    if (!id) problems.push(`偏好列表为“${row.models.slice(0, 40)}”的虚拟模型没有填写 id`);
    else if (/[\s*]/.test(id) || id.length > MAX_AUTO_ID_CHARS) problems.push(`“${id.slice(0, 40)}”：id 不能含空格或 *，最长 ${MAX_AUTO_ID_CHARS} 个字符`);
    else if (seen.has(id.toLowerCase())) problems.push(`“${id}” 重复了（不区分大小写）`);
    else if (ids.length > MAX_AUTO_PREFERENCES) problems.push(`“${id}”：偏好列表最多 ${MAX_AUTO_PREFERENCES} 个模型`);
    else if (ids.length === 0 && !row.others) problems.push(`“${id}”：至少填写一个模型，或勾选“再用其他模型”`);
    else {
      seen.add(id.toLowerCase());
      const description = row.description.trim();
      models.push({ id, kind: row.kind, models: ids, others: row.others, vision: row.vision, ...(description ? { description } : {}) });
    }
  }
  return { models, problems };
}

/** Where the virtual models in effect come from, in words. */
export function autoSourceLabel(list: Pick<AutoModelList, 'source'>): string {
  return list.source === 'console' ? '管理台保存的虚拟模型（取代内置与 CATALOG_FILE 中的）' : '内置的虚拟模型（CATALOG_FILE 的 auto_models: 可覆盖）';
}
