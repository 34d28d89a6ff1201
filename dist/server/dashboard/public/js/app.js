// Sign-in, routing (#/fleet, #/lockers/:id, #/alarms, #/parcels/:id) and the live connection.
import { ApiError, api, session, whenUnauthorized } from './api.js';
import { setText, show } from './dom.js';
import { connectLive } from './live.js';
import { applySnapshot, applyUpdate } from './store.js';
import { createFleetView } from './fleet.js';
import { createLockerView } from './locker.js';
import { createAlarmsView } from './alarms.js';
import { createParcelView } from './parcel.js';

const $ = (id) => document.getElementById(id);
const VIEWS = ['signin', 'fleet', 'locker', 'alarms', 'parcels'];
const LIVE_TEXT = { connecting: 'Connecting…', live: 'Live', down: 'Reconnecting…' };

let live = null;
const views = {
  fleet: createFleetView(),
  locker: createLockerView(),
  alarms: createAlarmsView(),
  parcels: createParcelView(),
};

function showView(name, arg) {
  for (const v of VIEWS) show($(`view-${v}`), v === name);
  for (const link of document.querySelectorAll('#nav a')) {
    if (link.dataset.view === (name === 'locker' ? 'fleet' : name)) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  for (const [key, view] of Object.entries(views)) if (key !== name && view.hide) view.hide();
  if (views[name]) views[name].show(arg);
  if (name !== 'locker') document.title = `${$(`${name}-h`).textContent} · Lockstep operations`;
  const heading = $(`${name}-h`);
  if (heading && document.activeElement !== heading && !heading.contains(document.activeElement)) heading.focus({ preventScroll: true });
}

function route() {
  if (!session.token) return showView('signin');
  const [, section, id] = location.hash.split('/');
  const arg = id ? decodeURIComponent(id) : undefined;
  if (section === 'lockers' && arg) return showView('locker', arg);
  if (section === 'alarms') return showView('alarms');
  if (section === 'parcels') return showView('parcels', arg);
  return showView('fleet');
}

function setLiveState(state) {
  const el = $('live-status');
  el.dataset.state = state;
  setText(el, LIVE_TEXT[state]);
}

function signedIn(on) {
  show($('nav'), on);
  show($('sign-out'), on);
  show($('live-status'), on);
}

function startLive() {
  live?.stop();
  live = connectLive(session.token, {
    onSnapshot: applySnapshot,
    onUpdate: applyUpdate,
    onState: setLiveState,
    onUnauthorized: () => signOut('Your token is no longer accepted; sign in again.'),
  });
}

function signOut(message = '') {
  live?.stop();
  live = null;
  session.clear();
  signedIn(false);
  setText($('signin-error'), message);
  if (location.hash && location.hash !== '#/signin') history.replaceState(null, '', '#/fleet');
  route();
}

$('signin-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const token = $('token').value.trim();
  setText($('signin-error'), '');
  try {
    await api('GET', '/v1/fleet', undefined, token);
  } catch (err) {
    const code = err instanceof ApiError ? err.code : '';
    setText(
      $('signin-error'),
      code === 'UNAUTHENTICATED' ? 'This token was not accepted.' : code === 'FORBIDDEN' ? 'This token belongs to a role that may not use the dashboard (operator or admin needed).' : `Could not sign in: ${err.message}`,
    );
    return;
  }
  $('token').value = '';
  session.set(token);
  signedIn(true);
  startLive();
  if (!location.hash || location.hash === '#/signin') location.hash = '#/fleet';
  else route();
});

$('sign-out').addEventListener('click', () => signOut());
whenUnauthorized(() => signOut('Your token is no longer accepted; sign in again.'));
window.addEventListener('hashchange', route);

if (session.token) {
  signedIn(true);
  startLive();
}
route();
