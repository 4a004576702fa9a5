import { DOCUMENT, Injectable, computed, inject, signal } from '@angular/core';
import { BROWSER_STORAGE, STORAGE_KEYS } from './browser';

export type Theme = 'dark' | 'light';

/** Browser UI colour (address bar on phones) per theme: the app bar's surface colour. */
const THEME_COLOR: Record<Theme, string> = { dark: '#111418', light: '#f8f9ff' };

/**
 * Dark by default, light on request, remembered in localStorage. The theme is a class on <html>
 * (`theme-dark` / `theme-light`) that sets `color-scheme`; Material's M3 tokens follow it
 * through `light-dark()`. public/theme-init.js applies the stored choice before Angular starts,
 * so a light-theme user never sees a dark flash.
 */
@Injectable({ providedIn: 'root' })
export class ThemeService {
  private readonly document = inject(DOCUMENT);
  private readonly storage = inject(BROWSER_STORAGE);
  readonly theme = signal<Theme>(this.stored());
  readonly isDark = computed(() => this.theme() === 'dark');

  constructor() {
    this.apply(this.theme());
  }

  toggle(): void {
    this.set(this.isDark() ? 'light' : 'dark');
  }

  set(theme: Theme): void {
    this.theme.set(theme);
    try {
      this.storage?.setItem(STORAGE_KEYS.theme, theme);
    } catch {
      // not remembered, still applied
    }
    this.apply(theme);
  }

  private stored(): Theme {
    try {
      return this.storage?.getItem(STORAGE_KEYS.theme) === 'light' ? 'light' : 'dark';
    } catch {
      return 'dark';
    }
  }

  private apply(theme: Theme): void {
    const root = this.document.documentElement;
    root.classList.toggle('theme-dark', theme === 'dark');
    root.classList.toggle('theme-light', theme === 'light');
    this.document.querySelector('meta[name="theme-color"]')?.setAttribute('content', THEME_COLOR[theme]);
  }
}
