// Equipo: members and their roles (admins change roles and disable
// accounts), invitations (the link /invite/<token> is shown once), and the
// audit log for the roles that may read it.
import { get, patch, post } from '../api.js';
import { field, h, input, put, select } from '../dom.js';
import { t, tv } from '../i18n.js';
import { dateTime } from '../format.js';
import { can, currentUser } from '../session.js';
import { badge, busy, pager, secretOnce, section, showError, showOk, statusBox } from '../ui.js';

const ROLES = ['admin', 'analyst', 'viewer', 'compliance_officer'];

export async function render(main) {
  main.append(h('div', { class: 'page-head' }, h('h1', {}, t('nav.team'))));
  main.append(await members(), await invites());
  if (can('read_audit')) main.append(await audit());
}

async function members() {
  const status = statusBox();
  const box = h('div', {});
  async function load() {
    const list = await get('/team/members');
    const me = currentUser();
    const manage = can('manage_team');
    const change = (m, body, msg) => async (e) => {
      const el = e.currentTarget;
      await busy(el, async () => {
        try {
          await patch(`/team/members/${encodeURIComponent(m.id)}`, body(el));
          showOk(status, msg);
          await load();
        } catch (err) {
          showError(status, err);
          await load();
        }
      });
    };
    put(box, h('div', { class: 'table-wrap' }, h('table', { dataset: { table: 'members' } },
      h('thead', {}, h('tr', {}, [t('team.name'), t('team.email'), t('team.role'), t('team.state'), t('common.created')].map((l) => h('th', { scope: 'col' }, l)))),
      h('tbody', {}, list.map((m) => h('tr', { dataset: { id: m.id, email: m.email } },
        h('td', {}, m.name || '—'), h('td', {}, m.email),
        h('td', {}, manage && m.id !== me.id
          ? select('role', ROLES.map((r) => [r, t(`role.${r}`)]), m.role, { 'aria-label': t('team.roleOf', { email: m.email }), onchange: change(m, (el) => ({ role: el.value }), t('team.roleChanged', { email: m.email })) })
          : t(`role.${m.role}`)),
        h('td', {}, m.disabled ? badge(t('team.disabled'), 'bad') : badge(t('team.active'), 'ok'),
          manage && m.id !== me.id ? [' ', h('button', { type: 'button', class: 'small', onclick: change(m, () => ({ disabled: !m.disabled }), t(m.disabled ? 'team.enabledOk' : 'team.disabledOk', { email: m.email })) }, m.disabled ? t('team.enable') : t('team.disable'))] : null),
        h('td', {}, dateTime(m.created_at))))))));
  }
  await load();
  return section(t('team.members'), status, box);
}

async function invites() {
  const status = statusBox();
  const once = h('div', { 'aria-live': 'polite' });
  const box = h('div', {});
  async function load() {
    const list = await get('/team/invites');
    put(box, h('div', { class: 'table-wrap' }, h('table', { dataset: { table: 'invites' } },
      h('thead', {}, h('tr', {}, [t('team.email'), t('team.role'), t('team.state'), t('team.expires')].map((l) => h('th', { scope: 'col' }, l)))),
      h('tbody', {}, list.length === 0 ? h('tr', {}, h('td', { colspan: 4, class: 'empty' }, t('team.noInvites')))
        : list.map((i) => h('tr', {}, h('td', {}, i.email), h('td', {}, t(`role.${i.role}`)), h('td', {}, tv('inv', i.status)), h('td', {}, dateTime(i.expires_at))))))));
  }
  await load();
  let form = null;
  if (can('invite_users')) {
    form = h('form', { class: 'row', dataset: { form: 'invite' } },
      field(t('team.email'), input('email', { type: 'email', required: true })),
      field(t('team.role'), select('role', ROLES.map((r) => [r, t(`role.${r}`)]), 'analyst')),
      h('button', { type: 'submit', class: 'primary' }, t('team.invite')));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      await busy(form.querySelector('button'), async () => {
        try {
          const out = await post('/team/invites', { email: form.email.value.trim(), role: form.role.value });
          showOk(status, t('team.invited', { email: out.invite.email }));
          put(once, secretOnce(t('team.inviteLink'), `${location.origin}/invite/${encodeURIComponent(out.token)}`));
          form.reset();
          await load();
        } catch (err) {
          showError(status, err, form);
        }
      });
    });
  }
  return section(t('team.invites'), form, status, once, box);
}

async function audit() {
  const box = h('div', {});
  const status = statusBox();
  async function load(offset = 0) {
    try {
      const page = await get('/audit-log', { limit: 20, offset });
      put(box, h('div', { class: 'table-wrap' }, h('table', { dataset: { table: 'audit' } },
        h('thead', {}, h('tr', {}, [t('common.date'), t('team.actor'), t('team.action'), t('team.resource')].map((l) => h('th', { scope: 'col' }, l)))),
        h('tbody', {}, page.data.map((a) => h('tr', {}, h('td', {}, dateTime(a.created_at)), h('td', {}, a.actor), h('td', {}, a.action),
          h('td', {}, `${a.resource_type}${a.resource_id ? ` ${a.resource_id}` : ''}`)))))),
      pager(page.pagination, load));
    } catch (e) {
      showError(status, e);
    }
  }
  await load();
  return section(t('team.audit'), status, box);
}
