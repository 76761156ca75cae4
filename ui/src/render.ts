// Everything the model or a document wrote goes through here before it reaches the DOM:
// Markdown (marked) → math (KaTeX) and code (highlight.js) → DOMPurify.

import { Marked, type TokenizerAndRendererExtension, type Tokens } from 'marked';
import katex from 'katex';
import DOMPurify from 'dompurify';
import hljs from 'highlight.js/lib/core';
import python from 'highlight.js/lib/languages/python';
import rust from 'highlight.js/lib/languages/rust';
import bash from 'highlight.js/lib/languages/bash';
import json from 'highlight.js/lib/languages/json';
import cpp from 'highlight.js/lib/languages/cpp';

hljs.registerLanguage('python', python);
hljs.registerLanguage('rust', rust);
hljs.registerLanguage('bash', bash);
hljs.registerLanguage('json', json);
hljs.registerLanguage('cpp', cpp);
hljs.registerAliases(['py'], { languageName: 'python' });
hljs.registerAliases(['rs'], { languageName: 'rust' });
hljs.registerAliases(['sh', 'shell', 'zsh', 'console'], { languageName: 'bash' });
hljs.registerAliases(['c', 'cc', 'c++', 'cuda', 'h', 'hpp'], { languageName: 'cpp' });

function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

function renderMath(tex: string, displayMode: boolean): string {
  return katex.renderToString(tex, {
    displayMode,
    throwOnError: false,
    output: 'htmlAndMathml',
    trust: false,
    strict: 'ignore',
    maxExpand: 200,
  });
}

interface MathToken extends Tokens.Generic {
  type: 'blockMath' | 'inlineMath';
  text: string;
  display: boolean;
}

interface CiteToken extends Tokens.Generic {
  type: 'cite';
  n: number;
}

const blockMath: TokenizerAndRendererExtension = {
  name: 'blockMath',
  level: 'block',
  start(src) {
    const i = src.search(/\$\$|\\\[/);
    return i < 0 ? undefined : i;
  },
  tokenizer(src) {
    const match =
      /^ {0,3}\$\$([\s\S]+?)\$\$[ \t]*(?:\n+|$)/.exec(src) ??
      /^ {0,3}\\\[([\s\S]+?)\\\][ \t]*(?:\n+|$)/.exec(src);
    if (!match) return undefined;
    return { type: 'blockMath', raw: match[0], text: match[1].trim(), display: true } as MathToken;
  },
  renderer(token) {
    return `<div class="math-display">${renderMath((token as MathToken).text, true)}</div>\n`;
  },
};

const inlineMath: TokenizerAndRendererExtension = {
  name: 'inlineMath',
  level: 'inline',
  start(src) {
    const i = src.search(/\$|\\\(|\\\[/);
    return i < 0 ? undefined : i;
  },
  tokenizer(src) {
    const match =
      /^\$\$([^$]+?)\$\$/.exec(src) ??
      /^\\\[([\s\S]+?)\\\]/.exec(src) ??
      /^\\\(([\s\S]+?)\\\)/.exec(src) ??
      // $…$: no space just inside the dollars, and no digit right after the closing one
      // (so "costs $5 and $6" stays text).
      /^\$(?=\S)((?:\\\$|[^$\n])*?\S)\$(?!\d)/.exec(src) ??
      /^\$(\S)\$(?!\d)/.exec(src);
    if (!match) return undefined;
    const display = match[0].startsWith('$$') || match[0].startsWith('\\[');
    return { type: 'inlineMath', raw: match[0], text: match[1].trim(), display } as MathToken;
  },
  renderer(token) {
    const t = token as MathToken;
    return renderMath(t.text, t.display);
  },
};

/** `[3]` → a citation chip (a reference link `[3](…)` stays a link). */
const citation: TokenizerAndRendererExtension = {
  name: 'cite',
  level: 'inline',
  start(src) {
    const i = src.search(/\[\d{1,3}\]/);
    return i < 0 ? undefined : i;
  },
  tokenizer(src) {
    const match = /^\[(\d{1,3})\](?!\()/.exec(src);
    if (!match) return undefined;
    return { type: 'cite', raw: match[0], n: Number(match[1]) } as CiteToken;
  },
  renderer(token) {
    const n = (token as CiteToken).n;
    return `<button type="button" class="cite" data-cite="${n}" data-testid="citation-chip">${n}</button>`;
  },
};

const marked = new Marked({
  gfm: true,
  breaks: true,
  async: false,
  extensions: [blockMath, inlineMath, citation],
  renderer: {
    code(token: Tokens.Code) {
      const lang = (token.lang ?? '').trim().split(/\s+/)[0].toLowerCase();
      let body: string;
      let label = '';
      if (lang && hljs.getLanguage(lang)) {
        body = hljs.highlight(token.text, { language: lang, ignoreIllegals: true }).value;
        label = lang;
      } else if (lang === 'math' || lang === 'latex' || lang === 'tex') {
        return `<div class="math-display">${renderMath(token.text, true)}</div>\n`;
      } else {
        body = escapeHtml(token.text);
        label = lang;
      }
      const cls = label ? ` class="hljs language-${escapeHtml(label)}"` : ' class="hljs"';
      return `<pre><code${cls}>${body}</code></pre>\n`;
    },
  },
});

const SAFE_URL = /^(?:https?:|mailto:|#|\/(?!\/)|\.{0,2}\/|[^:/?#]*(?:[/?#]|$))/i;

let hooked = false;
function purifier(): typeof DOMPurify {
  if (!hooked) {
    hooked = true;
    DOMPurify.addHook('uponSanitizeAttribute', (_node, data) => {
      // Event handlers never survive, whatever DOMPurify's lists say.
      if (/^on/i.test(data.attrName)) data.keepAttr = false;
    });
    DOMPurify.addHook('afterSanitizeAttributes', (node) => {
      const el = node as Element;
      for (const attr of ['href', 'src', 'xlink:href', 'action', 'formaction']) {
        const value = el.getAttribute?.(attr);
        if (value == null) continue;
        // Collapse whitespace and control characters that browsers ignore in a scheme.
        // eslint-disable-next-line no-control-regex
        const compact = value.replace(/[\u0000-\u0020\u007f-\u009f]+/g, '');
        const inlineImage = el.tagName === 'IMG' && attr === 'src' && /^data:image\//i.test(compact);
        if (!inlineImage && (/^(?:javascript|vbscript|data|file|blob):/i.test(compact) || !SAFE_URL.test(compact))) {
          el.removeAttribute(attr);
        }
      }
      if (el.tagName === 'A' && el.hasAttribute('href')) {
        el.setAttribute('target', '_blank');
        el.setAttribute('rel', 'noopener noreferrer');
      }
      if (el.tagName === 'IMG') {
        // Model output and passages have no images of their own to show, and nothing remote
        // may load: only inline raster data survives (CSS hides the rest).
        const src = el.getAttribute('src') ?? '';
        if (!/^data:image\/(?:png|jpeg|gif|webp);base64,[a-z0-9+/=\s]+$/i.test(src)) el.removeAttribute('src');
      }
    });
  }
  return DOMPurify;
}

export function sanitize(html: string): string {
  return purifier().sanitize(html, {
    USE_PROFILES: { html: true, mathMl: true, svg: true },
    ADD_TAGS: ['annotation', 'semantics'],
    ADD_ATTR: ['encoding', 'data-cite', 'data-testid'],
    FORBID_TAGS: ['style', 'form', 'input', 'textarea', 'select', 'iframe', 'object', 'embed'],
    FORBID_ATTR: ['srcset'],
    ALLOW_UNKNOWN_PROTOCOLS: false,
  });
}

/** Markdown with math, code and citation chips, sanitised: safe for `{@html}`. */
export function renderMarkdown(text: string): string {
  let html: string;
  try {
    html = marked.parse(text ?? '') as string;
  } catch {
    html = `<p>${escapeHtml(text ?? '')}</p>`;
  }
  return sanitize(html);
}

/** Plain text (no Markdown), escaped and sanitised, with citation chips and math. */
export function renderInline(text: string): string {
  let html: string;
  try {
    html = marked.parseInline(text ?? '') as string;
  } catch {
    html = escapeHtml(text ?? '');
  }
  return sanitize(html);
}
