// The signed-in user and what their role may do. The matrix mirrors
// core/src/roles.rs (Role::can), which the API enforces; the dashboard
// uses it only to hide what the API would refuse with 403.
import { get, token } from './api.js';

const MATRIX = {
  //                  admin analyst viewer compliance_officer
  write_cases:       [1, 1, 0, 1],
  write_blocklists:  [1, 1, 0, 1],
  delete_blocklists: [1, 0, 0, 0],
  write_rules:       [1, 1, 0, 0],
  run_simulation:    [1, 1, 0, 0], // the simulation routes require write_rules
  write_settings:    [1, 0, 0, 0],
  read_keys:         [1, 1, 0, 0], // API keys, webhooks and their deliveries
  manage_keys:       [1, 0, 0, 0],
  write_ingestion:   [1, 1, 0, 0],
  invite_users:      [1, 0, 0, 0],
  manage_team:       [1, 0, 0, 0],
  read_audit:        [1, 0, 0, 1],
};
const COLUMN = { admin: 0, analyst: 1, viewer: 2, compliance_officer: 3 };

let user = null;

export const currentUser = () => user;

export function can(action) {
  const row = MATRIX[action];
  const col = COLUMN[user?.role];
  if (!row) throw new Error(`unknown action ${action}`);
  return col !== undefined && row[col] === 1;
}

/** Loads /auth/me once per token; null when not signed in. */
export async function loadUser() {
  if (!token.get()) return (user = null);
  if (!user) user = await get('/auth/me');
  return user;
}

export function setUser(u) {
  user = u;
}

export function signOut() {
  token.clear();
  user = null;
}
