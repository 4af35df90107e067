// Sign-in: email and password for a dashboard token (kept in sessionStorage,
// so it ends with the tab). After an expiry, the user returns where they were.
import { post, takeExpired, takeReturnPath, token } from '../api.js';
import { field, h, input } from '../dom.js';
import { t } from '../i18n.js';
import { setUser } from '../session.js';
import { busy, showError, showInfo, statusBox } from '../ui.js';

export function render(main, { navigate }) {
  const status = statusBox();
  if (takeExpired()) showInfo(status, t('login.expired'));
  const form = h('form', { class: 'login', novalidate: true },
    h('h1', {}, 'Clausum'),
    h('p', { class: 'hint' }, t('login.subtitle')),
    field(t('login.email'), input('email', { type: 'email', autocomplete: 'username', required: true })),
    field(t('login.password'), input('password', { type: 'password', autocomplete: 'current-password', required: true })),
    h('button', { type: 'submit', class: 'primary' }, t('login.submit')),
    status);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const email = form.email.value.trim();
    const password = form.password.value;
    if (!email || !password) return showError(status, new Error(t('login.missing')));
    await busy(form.querySelector('button'), async () => {
      try {
        const out = await post('/auth/login', { email, password }, { auth: false });
        token.set(out.access_token);
        setUser(out.user);
        navigate(takeReturnPath() || '/dashboard', { replace: true });
      } catch (err) {
        showError(status, err, form, 'login');
        form.password.focus();
      }
    });
  });
  main.append(h('div', { class: 'center' }, form));
  form.email.focus();
}
