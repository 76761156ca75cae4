import { describe, expect, it } from 'vitest';
import { renderMarkdown, renderInline } from '../src/render';

function dom(html: string): HTMLElement {
  const div = document.createElement('div');
  div.innerHTML = html;
  return div;
}

function assertSafe(html: string): HTMLElement {
  const root = dom(html);
  expect(root.querySelector('script')).toBeNull();
  for (const el of Array.from(root.querySelectorAll('*'))) {
    for (const attr of Array.from(el.attributes)) {
      expect(attr.name.toLowerCase().startsWith('on'), `${el.tagName} has ${attr.name}`).toBe(false);
      expect(/^\s*javascript:/i.test(attr.value), `${el.tagName} ${attr.name}=${attr.value}`).toBe(false);
    }
  }
  expect(html).not.toMatch(/onerror/i);
  expect(html).not.toMatch(/javascript:/i);
  return root;
}

describe('renderMarkdown sanitises', () => {
  it('drops event handlers on raw HTML images', () => {
    const root = assertSafe(renderMarkdown('Look: <img src=x onerror=alert(1)> here'));
    expect(root.textContent).toContain('Look:');
  });

  it('drops script elements', () => {
    const html = renderMarkdown('before <script>alert(1)</script> after\n\n<script src="x.js"></script>');
    const root = assertSafe(html);
    expect(html).not.toMatch(/<script/i);
    expect(root.textContent).toContain('after');
  });

  it('strips javascript: links', () => {
    const root = assertSafe(renderMarkdown('[x](javascript:alert(1)) and [y](JaVaScRiPt:alert(1)) and <a href="java\tscript:alert(1)">z</a>'));
    for (const a of Array.from(root.querySelectorAll('a'))) {
      expect(a.getAttribute('href') ?? '').not.toMatch(/script:/i);
    }
    expect(root.textContent).toContain('x');
  });

  it('keeps ordinary links and makes them open outside', () => {
    const root = dom(renderMarkdown('[paper](https://arxiv.org/abs/1607.06450)'));
    const a = root.querySelector('a');
    expect(a?.getAttribute('href')).toBe('https://arxiv.org/abs/1607.06450');
    expect(a?.getAttribute('rel')).toContain('noopener');
  });

  it('removes svg and math payloads', () => {
    assertSafe(renderMarkdown('<svg><a xlink:href="javascript:alert(1)"><text>x</text></a></svg> <math><mi xlink:href="javascript:alert(1)">x</mi></math>'));
    assertSafe(renderMarkdown('<iframe src="javascript:alert(1)"></iframe><object data="x"></object>'));
  });

  it('does not load remote or relative images', () => {
    const root = dom(renderMarkdown('![logo](https://example.com/a.png) <img src=x> <img src="//evil.example/a.png">'));
    for (const img of Array.from(root.querySelectorAll('img'))) {
      expect(img.getAttribute('src')).toBeNull();
    }
  });

  it('keeps inline raster images', () => {
    const root = dom(renderMarkdown('![dot](data:image/png;base64,iVBORw0KGgo=)'));
    expect(root.querySelector('img')?.getAttribute('src')).toBe('data:image/png;base64,iVBORw0KGgo=');
  });

  it('drops svg data images', () => {
    const root = dom(renderMarkdown('<img src="data:image/svg+xml;base64,PHN2Zz4=">'));
    expect(root.querySelector('img')?.getAttribute('src') ?? null).toBeNull();
  });
});

describe('renderMarkdown renders', () => {
  it('renders inline and display KaTeX (LayerNorm, RoPE, attention)', () => {
    const text = [
      'LayerNorm: $\\mu = \\frac{1}{H}\\sum_{i=1}^{H} a_i$ and',
      '',
      '$$y = \\frac{x - \\mathrm{E}[x]}{\\sqrt{\\mathrm{Var}[x] + \\epsilon}} \\cdot \\gamma + \\beta$$',
      '',
      'RoPE: $f(x_m, m) = x_m e^{i m \\theta}$; attention:',
      '',
      '$$\\mathrm{Attention}(Q,K,V) = \\mathrm{softmax}\\left(\\frac{QK^\\top}{\\sqrt{d_k}}\\right)V$$',
    ].join('\n');
    const html = renderMarkdown(text);
    const root = assertSafe(html);
    expect(root.querySelectorAll('.katex').length).toBeGreaterThanOrEqual(4);
    expect(root.querySelectorAll('.katex-display').length).toBe(2);
    expect(root.querySelector('.katex-error')).toBeNull();
    expect(root.textContent).toContain('softmax');
  });

  it('keeps math with underscores intact', () => {
    const root = dom(renderMarkdown('where $x_i$ and $y_i$ are inputs'));
    expect(root.querySelectorAll('.katex').length).toBe(2);
    expect(root.querySelector('em')).toBeNull();
  });

  it('does not treat prices as math', () => {
    const root = dom(renderMarkdown('it costs $5 and $6 today'));
    expect(root.querySelector('.katex')).toBeNull();
  });

  it('renders \\( \\) and \\[ \\] delimiters', () => {
    const root = dom(renderMarkdown('inline \\(a^2\\) and\n\n\\[b^2\\]'));
    expect(root.querySelectorAll('.katex').length).toBe(2);
  });

  it('turns [n] into citation chips but leaves links alone', () => {
    const root = dom(renderMarkdown('LayerNorm normalises over features [1][2]. See [docs](https://example.com).'));
    const chips = root.querySelectorAll('button.cite');
    expect(chips.length).toBe(2);
    expect(chips[0].getAttribute('data-cite')).toBe('1');
    expect(chips[1].getAttribute('data-testid')).toBe('citation-chip');
    expect(root.querySelector('a')?.textContent).toBe('docs');
  });

  it('highlights code', () => {
    const root = dom(renderMarkdown('```python\ndef f(x):\n    return x  # $not math$\n```'));
    expect(root.querySelector('code.language-python .hljs-keyword')).not.toBeNull();
    expect(root.querySelector('.katex')).toBeNull();
  });

  it('renderInline sanitises too', () => {
    assertSafe(renderInline('<img src=x onerror=alert(1)> [x](javascript:alert(1)) $a$'));
  });
});
