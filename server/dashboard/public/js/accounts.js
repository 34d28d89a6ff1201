// Accounts (admins only): list, create (its first token shown once), change role, set a password, disable, end
// every session, remove a lost second factor. Every change goes through the API and the list is read again.
import { api, describeError } from './api.js';
import { el, fmtTime, setText, show } from './dom.js';

const ROLES = ['admin', 'operator', 'carrier'];

function signInText(a) {
  if (!a.signIn) return 'token only';
  const parts = [a.signIn.password ? 'password' : 'no password'];
  if (a.signIn.totp) parts.push('second factor');
  parts.push(`${a.signIn.activeSessions} session${a.signIn.activeSessions === 1 ? '' : 's'}`);
  return parts.join(', ');
}

export function createAccountsView() {
  const $ = (id) => document.getElementById(id);
  const tbody = $('accounts-table').tBodies[0];
  const result = $('accounts-result');
  const created = $('account-created');
  const passwordAccount = $('password-account');
  let accounts = [];

  const report = (text) => setText(result, text);

  async function act(what, call) {
    try {
      await call();
      report(what);
    } catch (err) {
      report(describeError(err));
    }
    await load();
  }

  function row(a) {
    const label = `${a.name}`;
    const role = el('select', { 'aria-label': `Role of ${label}`, disabled: a.disabled }, ...ROLES.map((r) => el('option', { value: r, selected: r === a.role }, r)));
    role.addEventListener('change', () => act(`${label} is now ${role.value}; their sessions and tokens ended.`, () => api('POST', `/v1/accounts/${encodeURIComponent(a.id)}/role`, { role: role.value })));
    const buttons = [];
    if (a.signIn && a.signIn.activeSessions > 0) {
      buttons.push(el('button', { type: 'button', class: 'small secondary', 'aria-label': `Revoke sessions of ${label}`, onclick: () => act(`Sessions of ${label} ended.`, () => api('POST', `/v1/accounts/${encodeURIComponent(a.id)}/sessions/revoke`)) }, 'Revoke sessions'));
    }
    if (a.signIn && a.signIn.totp) {
      buttons.push(el('button', { type: 'button', class: 'small secondary', 'aria-label': `Remove second factor of ${label}`, onclick: () => act(`Second factor of ${label} removed.`, () => api('POST', `/v1/accounts/${encodeURIComponent(a.id)}/totp/remove`)) }, 'Remove second factor'));
    }
    if (!a.disabled) {
      buttons.push(
        el('button', {
          type: 'button',
          class: 'small secondary',
          'aria-label': `Disable ${label}`,
          onclick: () => {
            if (window.confirm(`Disable ${label}? Its tokens and sessions stop working at once.`)) void act(`${label} disabled.`, () => api('POST', `/v1/accounts/${encodeURIComponent(a.id)}/disable`));
          },
        }, 'Disable'),
      );
    }
    return el(
      'tr',
      { dataset: { id: a.id } },
      el('th', { scope: 'row' }, a.name, el('span', { class: 'id' }, a.id)),
      el('td', { dataset: { label: 'Role' } }, role),
      el('td', { dataset: { label: 'Sign-in', col: 'signin' } }, signInText(a)),
      el('td', { dataset: { label: 'Status', col: 'status' }, class: 'state', 'data-state': a.disabled ? 'expired' : 'succeeded' }, a.disabled ? 'disabled' : 'active'),
      el('td', { dataset: { label: 'Created' } }, fmtTime(a.createdAt)),
      el('td', { class: 'actions', dataset: { label: 'Actions' } }, ...buttons),
    );
  }

  async function load() {
    try {
      ({ accounts } = await api('GET', '/v1/accounts'));
    } catch (err) {
      report(describeError(err));
      return;
    }
    tbody.replaceChildren(...accounts.map(row));
    const chosen = passwordAccount.value;
    const canSignIn = accounts.filter((a) => a.signIn && !a.disabled);
    passwordAccount.replaceChildren(...canSignIn.map((a) => el('option', { value: a.id, selected: a.id === chosen }, `${a.name} (${a.role})`)));
  }

  $('account-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const name = $('account-name').value.trim();
    const role = $('account-role').value;
    try {
      const a = await api('POST', '/v1/accounts', { name, role });
      $('account-name').value = '';
      setText($('account-created-token'), a.token);
      show(created, true);
      report(`Account ${a.name} (${a.role}) created.${role === 'carrier' ? '' : ' Set its password below to let it sign in.'}`);
    } catch (err) {
      report(describeError(err));
    }
    await load();
  });

  $('password-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const id = passwordAccount.value;
    const name = accounts.find((a) => a.id === id)?.name ?? id;
    const input = $('password-new');
    try {
      const r = await api('POST', `/v1/accounts/${encodeURIComponent(id)}/password`, { password: input.value });
      input.value = '';
      report(`Password of ${name} set; ${r.sessionsEnded} session${r.sessionsEnded === 1 ? '' : 's'} ended.`);
    } catch (err) {
      report(err.code === 'PASSWORD_TOO_WEAK' ? `${describeError(err)}: ${String(err.details?.problem ?? '').replaceAll('_', ' ')}` : describeError(err));
    }
    await load();
  });

  return {
    show() {
      show(created, false);
      setText($('account-created-token'), '');
      report('');
      void load();
    },
    hide() {
      setText($('account-created-token'), '');
      show(created, false);
    },
  };
}
