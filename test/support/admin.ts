/** Logs in as admin (the gateway must run with ADMIN_PASSWORD=password) and returns auth headers. */
export async function adminHeaders(gw: { url: string }, password = 'admin-test-password'): Promise<Record<string, string>> {
  const res = await fetch(`${gw.url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ password }) });
  if (res.status !== 200) throw new Error(`admin login failed: ${res.status} ${await res.text()}`);
  const { token } = (await res.json()) as { token: string };
  return { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
}
