// The signed-in user and what their role may do. `/auth/me` answers the
// role's permitted actions (core's Role::can, which the API enforces), so
// the dashboard hides exactly what the API would refuse with 403.
import { get, token } from './api.js';

// Screen-level capabilities named after the API action that governs them.
const GOVERNED_BY = {
  run_simulation: 'write_rules', // the simulation routes require write_rules
  write_ingestion: 'write_rules', // ingestion rules are rules
};

let user = null;

export const currentUser = () => user;

export function can(action) {
  return Boolean(user?.permissions?.includes(GOVERNED_BY[action] ?? action));
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
