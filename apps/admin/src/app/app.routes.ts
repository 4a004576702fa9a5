import type { Routes } from '@angular/router';
import { authGuard, loginGuard } from './core/auth.guard';
import { navItem } from './core/nav';

const title = (path: string) => `${navItem(path).label} · GPT4Free Pool`;

/**
 * Every page is lazy: the dashboard's charts (ECharts) load only with the dashboard. `/docs` is
 * the API's Swagger UI, so the console's API 文档 page lives at `/api-docs`.
 */
export const routes: Routes = [
  { path: 'login', title: '登录 · GPT4Free Pool', canActivate: [loginGuard], loadComponent: () => import('./pages/login/login') },
  {
    path: '',
    canActivate: [authGuard],
    loadComponent: () => import('./layout/shell/shell'),
    children: [
      { path: '', pathMatch: 'full', redirectTo: 'dashboard' },
      { path: 'dashboard', title: title('dashboard'), loadComponent: () => import('./pages/dashboard/dashboard') },
      { path: 'providers', title: title('providers'), loadComponent: () => import('./pages/providers/providers') },
      { path: 'models', title: title('models'), loadComponent: () => import('./pages/models/models') },
      { path: 'playground', title: title('playground'), loadComponent: () => import('./pages/playground/playground') },
      { path: 'keys', title: title('keys'), loadComponent: () => import('./pages/keys/keys') },
      { path: 'logs', title: title('logs'), loadComponent: () => import('./pages/logs/logs') },
      { path: 'api-docs', title: title('api-docs'), loadComponent: () => import('./pages/api-docs/api-docs') },
      { path: '**', title: '页面不存在 · GPT4Free Pool', loadComponent: () => import('./pages/not-found/not-found') },
    ],
  },
];
