import { createHarness, MemoryStorage } from '../../testing/harness';
import { STORAGE_KEYS } from './browser';
import { ThemeService } from './theme.service';

describe('ThemeService', () => {
  it('is dark by default and says so on <html>', () => {
    const h = createHarness([ThemeService]);
    const theme = h.get(ThemeService);
    expect(theme.theme()).toBe('dark');
    expect(h.document.documentElement.classList.contains('theme-dark')).toBe(true);
    expect(h.document.documentElement.classList.contains('theme-light')).toBe(false);
  });

  it('toggles to light, remembers it, and starts light next time', () => {
    const storage = new MemoryStorage();
    const h = createHarness([ThemeService], storage);
    h.get(ThemeService).toggle();
    expect(h.document.documentElement.classList.contains('theme-light')).toBe(true);
    expect(h.document.documentElement.classList.contains('theme-dark')).toBe(false);
    expect(h.document.themeMeta.content).toBe('#f8f9ff');
    expect(storage.getItem(STORAGE_KEYS.theme)).toBe('light');

    const again = createHarness([ThemeService], storage);
    expect(again.get(ThemeService).isDark()).toBe(false);
    expect(again.document.documentElement.classList.contains('theme-light')).toBe(true);
  });
});
