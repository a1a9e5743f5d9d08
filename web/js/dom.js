// A tiny element builder. Text goes in as text nodes, never as HTML, so
// anything the daemon sends is shown as written.

const PROPS = new Set(['value', 'checked', 'disabled', 'hidden', 'selected', 'open']);

export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [key, value] of Object.entries(attrs)) {
      if (value == null || value === false) continue;
      if (key === 'on') {
        for (const [type, fn] of Object.entries(value)) el.addEventListener(type, fn);
      } else if (key === 'class') {
        el.className = Array.isArray(value) ? value.filter(Boolean).join(' ') : value;
      } else if (key === 'text') {
        el.textContent = value;
      } else if (key === 'for') {
        el.htmlFor = value;
      } else if (PROPS.has(key)) {
        el[key] = value;
      } else {
        el.setAttribute(key, value === true ? '' : String(value));
      }
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child == null || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : String(child));
  }
}

// Sets text only when it changed (no layout work for unchanged cells).
// Puts `elements` into `list` in this order, moving only those out of place
// (so focus and scroll stay); any other children end up after them.
export function placeInOrder(list, elements) {
  let previous = null;
  for (const element of elements) {
    const want = previous ? previous.nextSibling : list.firstChild;
    if (want !== element) list.insertBefore(element, want);
    previous = element;
  }
}

export function setText(el, text) {
  const t = text == null ? '' : String(text);
  if (el.textContent !== t) el.textContent = t;
}

export function setAttr(el, name, value) {
  if (value == null || value === false) {
    if (el.hasAttribute(name)) el.removeAttribute(name);
  } else {
    const v = value === true ? '' : String(value);
    if (el.getAttribute(name) !== v) el.setAttribute(name, v);
  }
}

export function clear(el) {
  el.replaceChildren();
}

// A small stroke icon from path data (SVG built by DOM calls, so CSP-safe).
const SVG = 'http://www.w3.org/2000/svg';
export function icon(paths, size = 14) {
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', '0 0 16 16');
  svg.setAttribute('width', size);
  svg.setAttribute('height', size);
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  svg.setAttribute('class', 'icon');
  for (const d of [].concat(paths)) {
    const p = document.createElementNS(SVG, 'path');
    p.setAttribute('d', d);
    svg.append(p);
  }
  return svg;
}
