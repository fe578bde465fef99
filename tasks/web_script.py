"""The script every web practice page runs (`deskmimic.tasks.web_pages`), and the one that
measures text in the browser's font.

The page script only reports: it logs what the person did (``__dm.emit``: a button
clicked, a box ticked, a form submitted, an entry picked, with the step count at that
moment and what the form held), counts steps with the reducer's thresholds
(`deskmimic.core.rules.StepRules`, passed in as ``rules``), and answers
``__dm.snapshot(k)``: element boxes (CSS pixels in the viewport), values, ticks, focus,
whether the drop-down is open, the window's metrics, and the log from entry ``k`` on.
``__dm.mark`` and ``__dm.finish`` show what the Python side decided.
"""

from __future__ import annotations

# Logs what the person did and counts steps as the reducer will (window listeners in the
# capture phase run before the page's own handlers, as the Qt tasks' event filter does).
RUNTIME_JS = """
(() => {
const R = %(rules)s;
const MODS = new Set(['Shift', 'Control', 'Alt', 'Meta', 'AltGraph', 'CapsLock', 'OS', 'Super']);
const dm = window.__dm = {log: [], steps: 0, kind: '', last: 0, press: [-1e9, 0, 0], done: false};
const add = (kind, t) => { dm.steps++; dm.kind = kind; dm.last = t; };
addEventListener('mousedown', e => {
  if (dm.done) return;
  const t = performance.now(), d = devicePixelRatio, x = e.screenX * d, y = e.screenY * d;
  const [pt, px, py] = dm.press;
  dm.press = [t, x, y];
  if (!(t - pt <= R.double_click_ms && Math.abs(x - px) <= R.double_click_px
        && Math.abs(y - py) <= R.double_click_px)) add('pointer', t);
}, true);
addEventListener('wheel', e => {
  if (dm.done) return;
  const t = performance.now();
  if (dm.kind !== 'scroll' || t - dm.last > R.scroll_gap_ms) add('scroll', t);
  dm.kind = 'scroll'; dm.last = t;
}, {capture: true, passive: true});
addEventListener('keydown', e => {
  if (dm.done || MODS.has(e.key)) return;
  const t = performance.now();
  if (e.key.length === 1 && !e.ctrlKey && !e.altKey && !e.metaKey) {
    if (dm.kind !== 'type' || t - dm.last > R.idle_gap_ms) add('type', t);
    dm.last = t;
  } else add('key', t);
}, true);
const named = n => [...document.querySelectorAll('[data-name]')].find(e => e.dataset.name === n);
const values = () => Object.fromEntries([...document.querySelectorAll('input[data-field]')]
  .map(e => [e.dataset.field, e.value]));
const checked = () => [...document.querySelectorAll('input[type=checkbox]')]
  .filter(e => e.checked).map(e => e.dataset.label);
dm.emit = ev => { if (!dm.done) dm.log.push({...ev, t: performance.now(), steps: dm.steps,
  values: values(), checked: checked()}); };
dm.snapshot = k => {
  const boxes = {};
  for (const el of document.querySelectorAll('[data-name]')) {
    const r = el.getBoundingClientRect();
    if (r.width > 0 && r.height > 0 && el.checkVisibility())
      boxes[el.dataset.name] = [r.left, r.top, r.width, r.height];
  }
  const a = document.activeElement, sel = document.querySelector('select');
  return {log: dm.log.slice(k), steps: dm.steps, boxes, values: values(), checked: checked(),
    focus: (a && a.dataset && a.dataset.field) || null, open: !!(sel && sel.matches(':open')),
    iw: innerWidth, ih: innerHeight, ow: outerWidth, oh: outerHeight, dpr: devicePixelRatio,
    banner_h: document.getElementById('banner').offsetHeight, t: performance.now()};
};
dm.mark = (name, text) => { const el = named(name); el.textContent = text; el.disabled = true; };
dm.finish = (ok, text) => {
  dm.done = true;
  const b = document.getElementById('banner');
  b.textContent = text; b.className = ok ? 'success' : 'failure';
  const sel = document.querySelector('select');
  if (sel && sel.matches(':open') && typeof sel.hidePicker === 'function') sel.hidePicker();
  document.querySelectorAll('button, input, select, li').forEach(e => {
    e.disabled = true; e.classList.add('off'); });
  if (document.activeElement) document.activeElement.blur();
};
})();
"""

MEASURE_JS = ("(() => {const c = document.createElement('canvas').getContext('2d');"
              "c.font = %s; return Math.ceil(c.measureText(%s).width);})()")

__all__ = ["MEASURE_JS", "RUNTIME_JS"]
