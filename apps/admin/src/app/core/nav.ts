/** The console's pages, in menu order: the shell's navigation and the routes both come from here. */
export interface NavItem {
  /** Route path, without the leading slash. */
  path: string;
  /** Menu label and page title. */
  label: string;
  /** A Material Symbols ligature. */
  icon: string;
  /** One line on what the page is for (the menu entry's tooltip). */
  summary: string;
}

export const NAV_ITEMS: readonly NavItem[] = [
  { path: 'dashboard', label: '控制台', icon: 'space_dashboard', summary: '请求量、成功率、延迟与提供商状态一览，自动刷新。' },
  { path: 'providers', label: '提供商管理', icon: 'hub', summary: '启用或停用提供商、管理 API 密钥池、查看熔断与健康检查，添加自定义 OpenAI 兼容上游。' },
  { path: 'models', label: '模型浏览', icon: 'deployed_code', summary: '按类别浏览全部模型，查看每个模型可用的提供商路由与发现状态。' },
  { path: 'playground', label: '在线对话测试', icon: 'forum', summary: '选择模型直接对话，流式输出，查看实际服务的提供商与耗时。' },
  { path: 'keys', label: 'API 密钥', icon: 'key', summary: '为客户端创建、限速与吊销 API 密钥，查看每个密钥的用量。' },
  { path: 'logs', label: '请求日志', icon: 'receipt_long', summary: '逐条查看请求：模型、提供商、状态码、耗时、Token 用量与每次故障转移尝试。' },
  { path: 'api-docs', label: 'API 文档', icon: 'menu_book', summary: '接口说明与示例：对话、图片生成、语音合成与模型列表。' },
];

export function navItem(path: string): NavItem {
  const item = NAV_ITEMS.find((n) => n.path === path);
  if (!item) throw new Error(`no navigation entry for ${path}`);
  return item;
}
