// UI preferences kept in this browser (not in the core's config): language and theme.

export type UiLang = 'en' | 'zh';
export type Theme = 'light' | 'dark' | 'system';

function stored(key: string): string | null {
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
}

function store(key: string, value: string): void {
  try {
    localStorage.setItem(key, value);
  } catch {
    // private mode: the choice lasts for this page only
  }
}

function initialLang(): UiLang {
  const saved = stored('studydesk.lang');
  if (saved === 'en' || saved === 'zh') return saved;
  const nav = typeof navigator !== 'undefined' ? navigator.language || '' : '';
  return nav.toLowerCase().startsWith('zh') ? 'zh' : 'en';
}

function initialTheme(): Theme {
  const saved = stored('studydesk.theme');
  return saved === 'light' || saved === 'dark' || saved === 'system' ? saved : 'system';
}

export const prefs = $state({ lang: initialLang(), theme: initialTheme() });

export function setLang(lang: UiLang): void {
  prefs.lang = lang;
  store('studydesk.lang', lang);
  document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
}

export function setTheme(theme: Theme): void {
  prefs.theme = theme;
  store('studydesk.theme', theme);
  applyTheme();
}

let media: MediaQueryList | null = null;

export function applyTheme(): void {
  media ??= window.matchMedia('(prefers-color-scheme: dark)');
  const dark = prefs.theme === 'dark' || (prefs.theme === 'system' && media.matches);
  document.documentElement.dataset.theme = dark ? 'dark' : 'light';
}

export function watchSystemTheme(): void {
  media ??= window.matchMedia('(prefers-color-scheme: dark)');
  media.addEventListener('change', applyTheme);
  applyTheme();
  document.documentElement.lang = prefs.lang === 'zh' ? 'zh-CN' : 'en';
}
