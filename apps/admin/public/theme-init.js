// Applies the remembered theme before the console starts, so that there is no dark flash for
// light-theme users. Kept in a file (not inline) so the page's CSP can forbid inline scripts.
// The key and class names are the ones ThemeService uses (src/app/core/theme.service.ts).
try {
  if (localStorage.getItem('g4f.console.theme') === 'light') {
    document.documentElement.classList.replace('theme-dark', 'theme-light');
    document.querySelector('meta[name="theme-color"]').setAttribute('content', '#f8f9ff');
  }
} catch {
  // localStorage unavailable: stay dark.
}
