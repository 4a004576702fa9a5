import { readFileSync } from 'node:fs';
import type { Route } from '@angular/router';
import { routes } from './app.routes';
import { STORAGE_KEYS } from './core/browser';
import { NAV_ITEMS } from './core/nav';

/** Paths the API owns: the console's SPA fallback never answers them (apps/api/src/console). */
const API_PREFIXES = ['v1', 'api', 'docs', 'health', 'metrics'];

const shell = routes.find((r) => r.path === '' && r.children) as Route;

describe('routes and navigation', () => {
  it('the menu lists all eight pages (登录 plus seven console pages), in Chinese', () => {
    expect(NAV_ITEMS.map((n) => n.label)).toEqual(['控制台', '提供商管理', '模型浏览', '在线对话测试', 'API 密钥', '请求日志', 'API 文档']);
    expect(routes.some((r) => r.path === 'login')).toBe(true);
  });

  it('every menu entry has a guarded, lazy route with a title', () => {
    expect(shell.canActivate).toHaveLength(1);
    for (const item of NAV_ITEMS) {
      const route = shell.children!.find((r) => r.path === item.path);
      expect(route).toBeDefined();
      expect(route!.title).toBe(`${item.label} · GPT4Free Pool`);
      expect(typeof route!.loadComponent).toBe('function');
    }
  });

  it('no console route is a path the API keeps for itself', () => {
    const paths = [...routes, ...shell.children!].map((r) => r.path ?? '').filter(Boolean);
    for (const path of paths) {
      const first = path.split('/')[0]!;
      expect(API_PREFIXES.some((p) => first === p || (p === 'docs' && first.startsWith('docs')))).toBe(false);
    }
  });

  it('public/theme-init.js reads the key ThemeService writes', () => {
    const script = readFileSync(new URL('../../public/theme-init.js', import.meta.url), 'utf8');
    expect(script).toContain(`'${STORAGE_KEYS.theme}'`);
    expect(script).toContain("'theme-light'");
  });
});
