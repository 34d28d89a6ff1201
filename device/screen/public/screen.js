// The locker screen: draws the state the agent publishes (Server-Sent Events from /api/events) in the chosen
// language, and sends what the person does to the agent's local API. No framework, nothing from the internet.
// A typed code lives only in the input of the code view: it is gone when the view changes.

const LANGUAGES = ['en', 'pl', 'de', 'zh'];
const LANG_TAGS = { en: 'en', pl: 'pl', de: 'de', zh: 'zh-Hans' };
const catalogues = {};
let state = null;
let renderedKey = '';
let idleAt = null;
let warned = false;
/** The current timeout was longer than the warning time (a 20 s error screen is not warned about again). */
let warnable = false;
let lastSpoken = '';

const $ = (id) => document.getElementById(id);

function t(key, params = {}) {
  const text = catalogues[state?.language ?? 'en']?.[key] ?? catalogues.en?.[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(params[name] ?? ''));
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') node.className = v;
    else if (k === 'text') node.textContent = v;
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) if (c) node.append(c);
  return node;
}

async function post(path, body) {
  const res = await fetch(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return res.json();
}
const act = (action) => post('/api/action', { action });

function button(label, onclick, cls = 'button', attrs = {}) {
  return el('button', { type: 'button', class: cls, onclick, ...attrs }, label);
}

/** The locker's compartments, columns by their letter, the open door highlighted. */
function grid(open) {
  const columns = new Map();
  for (const cell of state.grid) {
    const col = cell.id.match(/^[A-Za-z]*/)[0] || '#';
    if (!columns.has(col)) columns.set(col, []);
    columns.get(col).push(cell);
  }
  const label = `${t('grid.label')}: ${t('grid.open', { id: open })}`;
  const locker = el('div', { class: 'locker', role: 'img', 'aria-label': label, 'data-testid': 'grid' });
  for (const cells of columns.values()) {
    cells.sort((a, b) => a.id.localeCompare(b.id, 'en', { numeric: true }));
    const column = el('div', { class: 'column' });
    for (const c of cells) {
      const cls = `cell size-${c.size}${c.low ? ' low' : ''}${c.id === open ? ' open' : ''}`;
      column.append(el('div', { class: cls, 'data-cell': c.id }, c.id));
    }
    locker.append(column);
  }
  return locker;
}

function codeView() {
  const input = el('input', { id: 'code-input', class: 'code-input', inputmode: 'numeric', autocomplete: 'off', maxlength: 32, autocapitalize: 'characters', spellcheck: 'false' });
  const submit = async (e) => {
    e?.preventDefault();
    const code = input.value.trim();
    if (!code) return input.focus();
    input.value = '';
    await post('/api/code', { code });
  };
  const keys = el('div', { class: 'keypad', role: 'group', 'aria-label': t('code.label') });
  for (const d of ['1', '2', '3', '4', '5', '6', '7', '8', '9']) keys.append(button(d, () => (input.value += d), '', { 'aria-label': t('code.digit', { digit: d }) }));
  keys.append(button('⌫', () => (input.value = input.value.slice(0, -1)), 'delete', { 'aria-label': t('code.delete') }));
  keys.append(button('0', () => (input.value += '0'), '', { 'aria-label': t('code.digit', { digit: '0' }) }));
  keys.append(button(t('code.ok'), submit, 'ok', { 'data-testid': 'code-ok' }));
  const form = el('form', { class: 'code-form', onsubmit: submit }, el('label', { for: 'code-input', text: t('code.label') }), input, keys);
  return [form, el('div', { class: 'actions' }, button(t('code.cancel'), () => act('cancel'), 'button secondary'))];
}

/** Heading, prompt (spoken and announced) and the content of each view. */
function describe(view) {
  switch (view.kind) {
    case 'idle':
      return {
        heading: t('start.title'),
        prompt: t('start.hint'),
        body: [button(t('start.button'), () => act('start'), 'button big', { 'data-testid': 'start' }), el('p', { class: 'hint', text: t('start.scanHint') })],
      };
    case 'code':
      return { heading: t('code.title'), prompt: t('code.hint'), body: codeView(), focus: 'code-input' };
    case 'open': {
      const progress = view.batch ? t('batch.progress', view.batch) : '';
      const prompt = view.action === 'reopen' ? t('open.reopen', view) : view.movedFrom ? t('open.moved', { from: view.movedFrom, door: view.door }) : t('open.pull', view);
      return {
        heading: t('open.title', view),
        prompt: progress ? `${progress}. ${prompt}` : prompt,
        body: [el('div', { class: 'split' }, el('p', { class: 'big-door', 'aria-hidden': 'true', text: view.door }), grid(view.door))],
      };
    }
    case 'closeDoor': {
      const progress = view.batch ? t('batch.progress', view.batch) : '';
      const actions = el('div', { class: 'actions' });
      if (view.action === 'deposit') actions.append(button(t('close.doesNotFit'), () => act('doesNotFit'), 'button big secondary', { 'data-testid': 'does-not-fit' }));
      const prompt = t(`close.${view.action}`, view);
      return {
        heading: t('open.title', view),
        prompt: progress ? `${progress}. ${prompt}` : prompt,
        body: [el('div', { class: 'split' }, el('p', { class: 'big-door', 'aria-hidden': 'true', text: view.door }), grid(view.door)), actions],
      };
    }
    case 'batchNext': {
      const b = view.batch;
      return {
        heading: t('batchNext.title', { ...b, door: b.next.door }),
        prompt: t('batchNext.done', b),
        body: [
          el('div', { class: 'actions' },
            button(t('batchNext.open', { door: b.next.door }), () => act('next'), 'button big', { 'data-testid': 'batch-next' }),
            button(t('batchNext.skip'), () => act('skip'), 'button secondary', { 'data-testid': 'batch-skip' }),
            button(t('batchNext.finish'), () => act('finish'), 'button secondary', { 'data-testid': 'batch-finish' })),
          grid(b.next.door),
        ],
      };
    }
    case 'done':
      return {
        heading: t(`done.${view.action}`, view),
        prompt: t(`done.${view.action}`, view),
        body: [button(t('done.button'), () => act('cancel'), 'button big', { 'data-testid': 'done' })],
      };
    case 'error': {
      const e = view.error;
      return {
        heading: t('error.title'),
        prompt: t(`error.${e.code}`, { ...e, seconds: e.unlockInSec }),
        error: true,
        body: [el('div', { class: 'actions' }, button(t('error.retry'), () => act('start'), 'button big', { 'data-testid': 'retry' }), button(t('error.back'), () => act('cancel'), 'button secondary'))],
      };
    }
    default:
      return { heading: '', prompt: '', body: [] };
  }
}

function speak(text) {
  if (!text || text === lastSpoken || !('speechSynthesis' in window)) return;
  lastSpoken = text;
  try {
    window.speechSynthesis.cancel();
    const u = new SpeechSynthesisUtterance(text);
    u.lang = LANG_TAGS[state.language] ?? 'en';
    window.speechSynthesis.speak(u);
  } catch {
    // No voice on this controller: the text is on the screen and in the live region.
  }
}

function renderChrome() {
  document.documentElement.lang = LANG_TAGS[state.language] ?? 'en';
  document.title = t('app.title');
  $('title').textContent = `${t('app.title')} ${state.lockerId}`;
  const off = $('offline');
  off.hidden = !state.offline;
  off.textContent = t('offline');
  const nav = $('languages');
  nav.setAttribute('aria-label', t('language.label'));
  nav.replaceChildren(
    ...LANGUAGES.map((l) =>
      el('button', { type: 'button', lang: LANG_TAGS[l], 'aria-pressed': String(l === state.language), 'data-lang': l, onclick: () => post('/api/language', { language: l }) }, catalogues[l]?.['language.name'] ?? l),
    ),
  );
  $('more-time').textContent = t('idle.moreTime');
}

function render() {
  if (!state || !catalogues.en) return;
  renderChrome();
  const key = `${state.language}|${JSON.stringify(state.view)}`;
  if (key !== renderedKey) {
    const viewChanged = renderedKey.split('|').slice(1).join('|') !== JSON.stringify(state.view);
    renderedKey = key;
    const d = describe(state.view);
    document.body.dataset.view = state.view.kind;
    $('heading').textContent = d.heading;
    const prompt = $('prompt');
    prompt.textContent = d.prompt;
    prompt.className = d.error ? 'prompt error' : 'prompt';
    prompt.setAttribute('role', d.error ? 'alert' : 'status');
    $('view').replaceChildren(...d.body);
    if (viewChanged) (d.focus ? $(d.focus) : $('heading'))?.focus();
    speak(d.prompt);
  }
  idleAt = state.idleLeftMs === null ? null : Date.now() + state.idleLeftMs;
  warnable = state.idleLeftMs !== null && state.idleLeftMs > 20_000;
  warned = false;
  tick();
}

/** The countdown to the start (WCAG 2.2.1: a warning with a way to get more time). */
function tick() {
  const footer = $('footer');
  if (idleAt === null) {
    footer.hidden = true;
    return;
  }
  const seconds = Math.max(0, Math.ceil((idleAt - Date.now()) / 1000));
  footer.hidden = false;
  $('idle').textContent = t('idle.left', { seconds });
  footer.classList.toggle('warn', seconds <= 10);
  if (warnable && seconds <= 20 && !warned) {
    warned = true;
    $('announce').textContent = t('idle.left', { seconds });
  }
}

async function main() {
  await Promise.all(
    LANGUAGES.map(async (l) => {
      catalogues[l] = await (await fetch(`/i18n/${l}.json`)).json();
    }),
  );
  $('more-time').addEventListener('click', () => act('moreTime'));
  const events = new EventSource('/api/events');
  events.onmessage = (m) => {
    const next = JSON.parse(m.data);
    if (state && next.version < state.version) return;
    state = next;
    render();
  };
  setInterval(tick, 1000);
}

main();
