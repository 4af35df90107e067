// Accepting an invitation (/invite/<token>): the invitee chooses a name and
// a password and is signed in straight away.
import { post, token } from '../api.js';
import { field, h, input } from '../dom.js';
import { t } from '../i18n.js';
import { setUser } from '../session.js';
import { busy, showError, statusBox } from '../ui.js';

export function render(main, { params, navigate }) {
  const status = statusBox();
  const form = h('form', { class: 'login', novalidate: true },
    h('h1', {}, t('invite.title')),
    h('p', { class: 'hint' }, t('invite.subtitle')),
    field(t('invite.name'), input('name', { autocomplete: 'name' })),
    field(t('invite.password'), input('password', { type: 'password', autocomplete: 'new-password', required: true, minlength: 12 }), t('invite.passwordHint')),
    field(t('invite.confirm'), input('confirm', { type: 'password', autocomplete: 'new-password', required: true })),
    h('button', { type: 'submit', class: 'primary' }, t('invite.submit')),
    status);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (form.password.value !== form.confirm.value) return showError(status, new Error(t('invite.mismatch')));
    await busy(form.querySelector('button'), async () => {
      try {
        const body = { token: params[0], password: form.password.value };
        if (form.name.value.trim()) body.name = form.name.value.trim();
        const out = await post('/auth/accept-invite', body, { auth: false });
        token.set(out.access_token);
        setUser(out.user);
        navigate('/dashboard', { replace: true });
      } catch (err) {
        showError(status, err, form, 'invite');
      }
    });
  });
  main.append(h('div', { class: 'center' }, form));
}
