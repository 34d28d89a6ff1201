// Sign-in, routing (#/fleet, #/lockers/:id, #/alarms, #/parcels/:id, #/accounts, #/webhooks) and the live connection.
import { api, restoreCookieSession, session, signOutSession, whenUnauthorized } from './api.js';
import { setText, show } from './dom.js';
import { connectLive } from './live.js';
import { applySnapshot, applyUpdate } from './store.js';
import { createFleetView } from './fleet.js';
import { createLockerView } from './locker.js';
import { createAlarmsView } from './alarms.js';
import { createParcelView } from './parcel.js';
// Operator sign-in (issue 19).
import { setUpSignIn } from './signin.js';
import { createAccountsView } from './accounts.js';
import { createWebhooksView } from './webhooks.js';
import { createMeView } from './me.js';
// Firmware rollouts (issue 19).
import { createRolloutsView } from './rollouts.js';

const $ = (id) => document.getElementById(id);
const VIEWS = ['signin', 'fleet', 'locker', 'alarms', 'parcels', 'accounts', 'webhooks', 'me', 'rollouts'];
const LIVE_TEXT = { connecting: 'Connecting…', live: 'Live', down: 'Reconnecting…' };

let live = null;
const views = {
  fleet: createFleetView(),
  locker: createLockerView(),
  alarms: createAlarmsView(),
  parcels: createParcelView(),
  accounts: createAccountsView(),
  webhooks: createWebhooksView(),
  me: createMeView(),
  // Firmware rollouts (issue 19).
  rollouts: createRolloutsView(),
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
  if (!session.signedIn) return showView('signin');
  const [, section, id] = location.hash.split('/');
  const arg = id ? decodeURIComponent(id) : undefined;
  if (section === 'lockers' && arg) return showView('locker', arg);
  if (section === 'alarms') return showView('alarms');
  if (section === 'parcels') return showView('parcels', arg);
  if (section === 'accounts' && isAdmin) return showView('accounts');
  if (section === 'webhooks' && isAdmin) return showView('webhooks');
  if (section === 'me' && session.csrf) return showView('me');
  // Firmware rollouts (issue 19): the list, or one rollout with its id.
  if (section === 'rollouts' && isAdmin) return showView('rollouts', arg);
  return showView('fleet');
}

function setLiveState(state) {
  const el = $('live-status');
  el.dataset.state = state;
  setText(el, LIVE_TEXT[state]);
}

// Sign-in (issue 19): a password session (cookie + CSRF token) or a bearer token; admins see the admin pages.
let isAdmin = false;

function signedIn(on) {
  show($('nav'), on);
  show($('sign-out'), on);
  show($('sign-out-all'), on && Boolean(session.csrf));
  show($('live-status'), on);
  for (const link of document.querySelectorAll('#nav [data-admin]')) show(link, on && isAdmin);
  for (const link of document.querySelectorAll('#nav [data-session]')) show(link, on && Boolean(session.csrf));
}

function startLive() {
  live?.stop();
  live = connectLive(session.token, {
    onSnapshot: applySnapshot,
    onUpdate: applyUpdate,
    onState: setLiveState,
    onUnauthorized: () => signOut('You are no longer signed in (signed out elsewhere, or the session ended); sign in again.'),
  });
}

/** Whether the signed-in principal is an admin: the session says; a token is asked of the admin-only accounts route. */
async function learnRole() {
  if (session.account) isAdmin = session.account.role === 'admin';
  else isAdmin = await api('GET', '/v1/accounts').then(() => true, () => false);
}

async function enter() {
  await learnRole();
  signedIn(true);
  startLive();
  if (!location.hash || location.hash === '#/signin') location.hash = '#/fleet';
  else route();
}

async function signOut(message = '', everywhere = false) {
  live?.stop();
  live = null;
  if (!message) await signOutSession(everywhere).catch(() => undefined);
  session.clear();
  isAdmin = false;
  signedIn(false);
  signInForm.reset();
  setText($('signin-error'), message);
  if (location.hash && location.hash !== '#/signin') history.replaceState(null, '', '#/fleet');
  route();
}

const signInForm = setUpSignIn({ onSignedIn: () => void enter() });
$('sign-out').addEventListener('click', () => void signOut());
$('sign-out-all').addEventListener('click', () => void signOut('', true));
whenUnauthorized(() => void signOut('You are no longer signed in (token refused or session ended); sign in again.'));
window.addEventListener('hashchange', route);

if (session.token || (await restoreCookieSession())) await enter();
else route();
