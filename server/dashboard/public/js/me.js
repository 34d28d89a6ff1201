// Your sign-in (password sessions only): change your password, set up or remove the TOTP second factor.
import { api, describeError, session } from './api.js';
import { setText, show } from './dom.js';

export function createMeView() {
  const $ = (id) => document.getElementById(id);
  const result = $('me-result');
  const enrolment = $('totp-enrolment');
  const report = (text) => setText(result, text);

  async function refreshTotp() {
    show($('totp-start'), !session.totpEnabled);
    show($('totp-remove-form'), Boolean(session.totpEnabled));
  }

  $('me-password-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      const r = await api('PUT', '/v1/me/password', { currentPassword: $('me-current').value, newPassword: $('me-new').value });
      report(`Password changed; ${r.sessionsEnded} other session${r.sessionsEnded === 1 ? '' : 's'} ended.`);
      $('me-current').value = '';
      $('me-new').value = '';
    } catch (err) {
      report(err.code === 'PASSWORD_TOO_WEAK' ? `${describeError(err)}: ${String(err.details?.problem ?? '').replaceAll('_', ' ')}` : describeError(err));
    }
  });

  $('totp-start').addEventListener('click', async () => {
    try {
      const { secret, uri } = await api('POST', '/v1/me/totp');
      setText($('totp-secret'), secret);
      setText($('totp-uri'), uri);
      show(enrolment, true);
      report('Add the key to your authenticator app, then enter the code it shows.');
      $('totp-code').focus();
    } catch (err) {
      if (err.code === 'TOTP_ALREADY_ENABLED') session.totpEnabled = true;
      report(describeError(err));
      await refreshTotp();
    }
  });

  $('totp-confirm-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      await api('POST', '/v1/me/totp/confirm', { code: $('totp-code').value.trim() });
      session.totpEnabled = true;
      show(enrolment, false);
      setText($('totp-secret'), '');
      setText($('totp-uri'), '');
      report('Second factor on: from now on sign-in asks for a code.');
    } catch (err) {
      report(describeError(err));
    }
    $('totp-code').value = '';
    await refreshTotp();
  });

  $('totp-remove-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      await api('POST', '/v1/me/totp/remove', { password: $('totp-remove-password').value });
      session.totpEnabled = false;
      report('Second factor removed.');
    } catch (err) {
      report(describeError(err));
    }
    $('totp-remove-password').value = '';
    await refreshTotp();
  });

  return {
    show() {
      report('');
      void refreshTotp();
    },
    hide() {
      show(enrolment, false);
      setText($('totp-secret'), '');
      setText($('totp-uri'), '');
    },
  };
}
