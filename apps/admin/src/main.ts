import { bootstrapApplication } from '@angular/platform-browser';
import { App } from './app/app';
import { appConfig } from './app/app.config';

// Icons are hidden (index.html's .icons-loading, icons.scss) until their font is in, so that a slow
// link never shows them as their ligature names; a font that fails to load shows them as text.
void document.fonts
  .load('24px "Material Symbols Outlined"')
  .catch(() => undefined)
  .then(() => document.documentElement.classList.remove('icons-loading'));

bootstrapApplication(App, appConfig).catch((err: unknown) => console.error(err));
