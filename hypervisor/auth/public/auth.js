// The auth pages' behaviour: each form posts JSON to /auth/*, runs WebAuthn through
// @simplewebauthn/browser (served next to this file) and shows server errors in the alert.
const { startRegistration, startAuthentication } = window.SimpleWebAuthnBrowser;

const errorBox = document.getElementById('error');

function showError(message) {
  errorBox.textContent = message;
  errorBox.hidden = false;
}

function clearError() {
  errorBox.textContent = '';
  errorBox.hidden = true;
}

async function post(path, body) {
  const response = await fetch(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    credentials: 'same-origin',
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(data.error || `${path} answered ${response.status}`);
  return data;
}

function describe(error) {
  if (error && error.name === 'NotAllowedError') return 'The passkey prompt was cancelled or timed out. Try again.';
  return error && error.message ? error.message : String(error);
}

async function registerPasskey(username, displayName) {
  const { publicKey } = await post('/auth/register/start', displayName ? { username, display_name: displayName } : { username });
  const credential = await startRegistration({ optionsJSON: publicKey });
  return post('/auth/register/finish', credential);
}

// Resolved the way the browser will resolve it (tabs and newlines stripped, backslashes as slashes),
// so `/\t/evil.example` cannot leave this origin. The answer is the absolute URL: a path alone can
// normalise to `//evil.example/...` (from `/.//evil.example`), which location.assign would read as
// scheme-relative, another host.
function safeNext() {
  const next = new URLSearchParams(location.search).get('next');
  if (!next) return '/';
  let target;
  try {
    target = new URL(next, location.origin);
  } catch {
    return '/';
  }
  return target.origin === location.origin ? target.href : '/';
}

function onSubmit(form, handler) {
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearError();
    const button = form.querySelector('button[type="submit"]');
    button.disabled = true;
    try {
      await handler(new FormData(form));
    } catch (error) {
      showError(describe(error));
    } finally {
      button.disabled = false;
    }
  });
}

const pages = {
  login() {
    onSubmit(document.getElementById('login-form'), async (data) => {
      const { publicKey } = await post('/auth/login/start', { username: data.get('username') });
      const assertion = await startAuthentication({ optionsJSON: publicKey });
      await post('/auth/login/finish', assertion);
      location.assign(safeNext());
    });
  },
  register() {
    const form = document.getElementById('register-form');
    onSubmit(form, async (data) => {
      const result = await registerPasskey(data.get('username'), data.get('display_name'));
      form.hidden = true;
      if (result.recovery_codes.length > 0) {
        const list = document.querySelector('[data-testid="recovery-codes"]');
        for (const code of result.recovery_codes) {
          const item = document.createElement('li');
          item.textContent = code;
          list.append(item);
        }
        document.getElementById('codes').hidden = false;
      } else {
        document.getElementById('registered-message').textContent = 'Your new passkey is added to this account.';
      }
      document.getElementById('registered').hidden = false;
    });
  },
  recovery() {
    const form = document.getElementById('recovery-form');
    let username = '';
    onSubmit(form, async (data) => {
      const result = await post('/auth/recovery', { username: data.get('username'), code: data.get('code') });
      username = result.username;
      form.hidden = true;
      document.getElementById('recovered').hidden = false;
    });
    const registerNew = document.getElementById('register-new');
    registerNew.addEventListener('click', async () => {
      clearError();
      registerNew.disabled = true;
      try {
        await registerPasskey(username);
        document.getElementById('recovered').hidden = true;
        document.getElementById('registered').hidden = false;
      } catch (error) {
        showError(describe(error));
      } finally {
        registerNew.disabled = false;
      }
    });
  },
};

pages[document.body.dataset.page]();
