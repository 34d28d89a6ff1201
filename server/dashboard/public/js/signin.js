// The sign-in form: name and password (and the authenticator code when the account has a second factor), or a
// bearer token (machines, the first start). Calls onSignedIn() once signed in either way.
import { ApiError, api, session, signInWithPassword } from './api.js';
import { setText, show } from './dom.js';

const $ = (id) => document.getElementById(id);

/** A refused sign-in as one line for people. */
function refusal(err) {
  if (!(err instanceof ApiError)) return `Could not sign in: ${err && err.message ? err.message : err}`;
  const wait = err.details && err.details.retryAfterSec ? ` Try again in ${err.details.retryAfterSec} s.` : '';
  if (err.code === 'SIGN_IN_FAILED') return 'The name, password or code was not accepted.';
  if (err.code === 'SIGN_IN_LOCKED') return `Too many failed sign-ins for this name.${wait}`;
  if (err.code === 'SIGN_IN_THROTTLED' || err.code === 'RATE_LIMITED') return `Too many failed sign-ins from this address.${wait}`;
  return `Could not sign in: ${err.message}`;
}

export function setUpSignIn({ onSignedIn }) {
  const form = $('signin-form');
  const error = $('signin-error');
  const codeRow = $('signin-code-row');

  /** Back to an empty form (after sign-out). */
  function reset() {
    $('signin-password').value = '';
    $('signin-code').value = '';
    show(codeRow, false);
  }

  async function withToken(token) {
    try {
      await api('GET', '/v1/fleet', undefined, token);
    } catch (err) {
      const code = err instanceof ApiError ? err.code : '';
      setText(
        error,
        code === 'UNAUTHENTICATED' ? 'This token was not accepted.' : code === 'FORBIDDEN' ? 'This token belongs to a role that may not use the dashboard (operator or admin needed).' : `Could not sign in: ${err.message}`,
      );
      return;
    }
    $('token').value = '';
    session.set(token);
    onSignedIn();
  }

  async function withPassword() {
    const name = $('signin-name').value.trim();
    const password = $('signin-password').value;
    const code = $('signin-code').value.trim();
    if (!name || !password) {
      setText(error, 'Enter your name and password (or a token below).');
      return;
    }
    try {
      await signInWithPassword(name, password, codeRow.hidden ? undefined : code);
    } catch (err) {
      if (err instanceof ApiError && err.code === 'TOTP_REQUIRED') {
        show(codeRow, true);
        setText(error, 'Enter the 6-digit code from your authenticator app.');
        $('signin-code').focus();
        return;
      }
      setText(error, refusal(err));
      if (!codeRow.hidden) $('signin-code').value = '';
      return;
    }
    reset();
    onSignedIn();
  }

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    setText(error, '');
    const token = $('token').value.trim();
    void (token ? withToken(token) : withPassword());
  });

  return { reset };
}
